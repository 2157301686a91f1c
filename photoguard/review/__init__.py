"""Resolve ``review`` verdicts: a person confirms who an uncertain face is, or that it is not.

``session`` holds the files of one folder that need a person (review and block verdicts) and
records decisions in the registry (``photoguard.consent.decisions``); ``app`` is the local,
token-protected review page over a session; ``server`` binds it to 127.0.0.1 and serves it.
"""
