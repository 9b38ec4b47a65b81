"""The language server: memfix findings as diagnostics while you type, its fixes as code actions.

`memfix server` speaks the Language Server Protocol over stdio (`server.py`, on pygls).
`protocol.py` turns findings and fixed text into LSP values and `analysis.py` runs the
pure core on a document's text; neither touches disk nor the connection. Nothing here is
imported by `memfix check` or `apply`, so pygls is loaded only by the server.
"""
