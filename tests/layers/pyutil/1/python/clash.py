WHO = "clash from pyutil/1 (configured first)"
