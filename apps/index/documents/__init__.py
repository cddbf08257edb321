"""The whole-index documents: ``/simple/`` (HTML and PEP 691 JSON) and XML-RPC
``list_packages_with_serial``, tens of MB each at PyPI's size.

One current copy of each, on local disk (``settings.PYPIMIRROR_INDEX_DIR``), cut into segments
of consecutive projects, each rendered in every format and compressed once (store.py, gzipped.py);
a new serial renders again only the segments the journal's changes fall in (services.py); answers
send the document's whole file, made by its first answer at a serial (whole.py), or stream the
segments, gzipped from the stored deflate (responses.py). Nothing of them goes into
Django's cache, so a worker's memory and the cache's stay small whatever the catalog's size.
"""
