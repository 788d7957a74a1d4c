"""Keras / keras-rl callbacks: reward logging (CSV) and checkpointing."""
