"""The HTTP front of ``oaipress serve``: a gunicorn worker that reads requests itself.

gunicorn's sync and gthread workers read a request inside the thread that runs the app,
so a few clients that send half a request tie up every worker. This worker reads and
checks each request on an asyncio loop (deadlines, size limits, a cap on connections)
and hands only complete requests to a thread pool that runs the WSGI app. gunicorn stays
the process manager: it forks the workers, restarts them and stops them gracefully.
"""
