"""The local platform's storage: one module per entity, plain records in and out.

``base`` holds what they share (errors, ids, clocks, the data version). No module here
imports FastAPI or spells a wire (camelCase) key.
"""
