"""What viewers do: an anonymous viewer id, watch progress (resume), playback events.

Until accounts exist a viewer is a random id the API hands out (`viewer.py`); swapping it for
a real account means changing only `viewer_id()`.
"""
