"""History from access logs: the other source of hits, beside the beacon.

A line of a web server's access log becomes a hit the way a beacon request
does in beacon/capture.py: formats reads the line, pages decides whether it is
a page view and makes its hit with the beacon's own cleaning and labels, keys
gives it a key that is the same each time the line is read, and importer reads
files in batches through the store's ``save_dated`` door
(lambdactr_import_log, docs/import.md).
"""
