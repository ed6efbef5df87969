"""One router per resource; JSON under /api. (HTML pages will live in routes/pages.py.)"""
from . import accounts, auth, drafts, history, inbound, meters, photos, readings, review, submissions, users

API_ROUTERS = [
    auth.router,
    users.router,
    accounts.router,
    meters.router,
    photos.router,
    drafts.router,
    readings.router,
    submissions.router,
    review.router,
    history.router,
    inbound.router,
]
