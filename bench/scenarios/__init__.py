"""One module per scenario; each gives the cases (scenario x set-up) that bench/run.py runs."""
