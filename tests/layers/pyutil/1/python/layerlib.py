WHO = "layerlib from pyutil/1"
