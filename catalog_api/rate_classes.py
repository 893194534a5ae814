"""The catalog's routes with a budget of their own (streamcore/ratelimit/classes.py): uploads,
and reprocessing, which costs as much work as one. The rest are reads or writes."""

from streamcore.ratelimit.classes import RateClass

RATE_CLASSES = {
    "POST /v1/assets": RateClass.UPLOAD,
    "POST /v1/assets/{asset_id}/reprocess": RateClass.UPLOAD,
}
