"""The report from the results: its prose (`prose`, each sentence a function of its numbers),
tables (`tables`), listings (`listings`), figures (`plots`), how numbers are written
(`formatting`), and the README's results blocks (`readme`, `make readme`)."""
