"""The reproduced originals: each tutorial's algorithm as a readable reference loop beside its fast
version (which replays the reference's random draws, and a test holds them equal).

One module per original, named for it; experiments (:mod:`reproduce.experiments`) run them.
"""
