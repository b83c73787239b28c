"""The report's listings, spreads over seeds, and the notebooks' timings by part."""



from helpers.report import listings


def test_listings_in_the_reports_format():
    text = listings.accuracy_listing({"train": 0.6456, "val": 0.4652, "test": 0.4754}, 1000)
    assert text.splitlines() == ["Accuracy for training : 64.56% with steps 1000",
                                 "Accuracy for validation : 46.52% with steps 1000",
                                 "Accuracy for testing : 47.54% with steps 1000"]
    row = {"lambda": 0.0006246592215568911, "train_accuracy": 0.5873, "val_accuracy": 0.529}
    assert listings.search_listing([row]) == ("lambda=0.0006246592215568911, training "
                                              "accuracy=58.73%, validation accuracy=52.90%")
    lines = listings.gradient_listing({"W1": 1.63e-14, "W2": 2.12e-16, "b1": 1.6e-15,
                                      "b2": 3.08e-16}).splitlines()
    assert lines[:3] == ["Relative errors in W:", "Layer 0: max relative error = 1.63e-14",
                         "Layer 1: max relative error = 2.12e-16"]
    assert lines[4:] == ["Relative errors in b:", "Layer 0: max relative error = 1.60e-15",
                         "Layer 1: max relative error = 3.08e-16"]
