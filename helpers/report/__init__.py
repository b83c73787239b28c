"""The report from the results: its prose (`prose`, each sentence a function of its numbers),
tables (`tables`), listings (`listings`), figures (`plots`), how numbers are written
(`formatting`), the README's results blocks (`readme`, `make readme`), and the HTML export's
formulas as MathML (`mathml`, its TeX converted when the report is built)."""
