"""The record store: articles, their rights statements and set memberships.

Free of Flask and lxml: the protocol layer passes in a renderer when records are written.
"""
