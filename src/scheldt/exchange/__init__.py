"""Exchange with partner agencies and shipping firms: STIX 2.1 objects and Scheldt's sharing
extension (markings, evaluation, sharing group, recipients, validity), the TAXII 2.1 server,
federation between nodes, MISP, carrier notifications.

Every reader of shared objects goes through one visibility policy
(:func:`scheldt.domain.exchange.may_see`, run as SQL by ``scheldt.store.exchange``).
"""
