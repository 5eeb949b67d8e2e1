from wand.color import Color
from wand.image import Image


def handler(event, context):
    with Image(width=3, height=2, background=Color("red")) as image:
        image.format = "png"
        return image.make_blob()
