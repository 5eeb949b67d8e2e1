WHO = "clash from pyclash/1 (configured second)"
