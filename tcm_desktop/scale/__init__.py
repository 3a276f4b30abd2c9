"""Structuring at archive scale on a Ray cluster (the optional ``scale`` extra).

Nothing else in the package imports this: the desktop app and the clinic
install never need Ray. ``tcm-desktop archive`` imports it lazily.
"""
