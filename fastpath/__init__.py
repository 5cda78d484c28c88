"""The public-read fast path: seal image hits answered in ~50 µs of CPU, and never stale.

What it holds, behind one setting, ``PUBLIC_IMAGE_FASTPATH`` (env, default on):

- ``fastpath.wsgi``: ``wrap(django_app)``, the one call ``config/wsgi.py`` makes. Public reads
  take a trimmed middleware chain; a GET of ``/s/<id>.png|svg`` goes to the replay first.
- ``fastpath.replay``: Django's own answer to an image request, kept and replayed while what
  it rests on (``seals.public_views.ImageBasis``) still holds.
- ``fastpath.cache``: the cache backend settings name while the switch is on
  (``config.cache.RedisCache`` plus ``local_copies`` and ``settle``). ``seals.snapshot`` keeps
  each seal's snapshot in these copies, so a hit makes no Redis round trip.
- ``fastpath.tracking``: the copies themselves, dropped by Redis invalidation pushes (RESP3
  ``CLIENT TRACKING ... BCAST``) on one extra connection per process.

Off, the package is not in play at all: Django's handler with its full middleware chain, the
plain ``config.cache.RedisCache``, one Redis round trip per hit. Both pieces go together (one
switch, not two) because a replay is only ever checked against a tracked snapshot copy: a
replay without copies never answers, and copies without the replay were the slower,
intermediate step (docs/performance.md).

Layering: this package imports ``config`` and the public names of ``seals``. Nothing in
either imports it but the entry point ``config/wsgi.py`` (``wrap``); settings name
``fastpath.cache`` as a string, and ``seals.snapshot`` finds the copies as an optional
capability of its cache.

Why a replayed hit can never show a stale status
------------------------------------------------
A replay answers only when all of this holds at the moment of the request:

(a) this process holds the seal's snapshot copy and trusts it (``seals.snapshot.get_local``);
(b) the copy's digest equals the one the learnt answer was made from: the digest hashes every
    stored fact an image shows (stored status, valid-from and expiry dates, names, domains,
    theme, logo version, erasure; and the seal's version), so an equal digest means the view
    would draw from the same facts;
(c) the effective status computed *now* from that copy equals the learnt one;
(d) today (UTC) is the learnt day, the date drawn on the card;
(e) the request key (path, query string, Host, scheme, proxy scheme header) is the same.

What invalidates (``fastpath.tracking``):

1. Every write to a seal's public facts replaces its generation token after commit
   (``seals.snapshot.invalidate_seals``; member, programme and issuer changes through
   ``invalidate_member/programme/issuer``). Redis queues an invalidation push of that key to
   every tracking connection while it executes the write, and writes all pending replies and
   pushes before it next waits for input.
2. The writer drops its own copies and then waits for one PING (``settle``): its answer proves
   Redis went round its loop, so the push is already in every node's socket (loopback) or on
   the wire (a LAN), ahead of anything the writer's own answer causes.
3. A reader drains its socket (``poll(2)`` with the GIL held, ~1 µs) and applies every push
   before it trusts any copy, so (a) fails on the very next request after the write.
4. A read that raced a write is never kept: ``reserve`` marks the key before the Redis read,
   an invalidation drops the mark, and ``fill`` keeps the value only if the mark survived.

A lost push or connection: pushes ride one TCP stream, so they cannot be lost one by one;
the stream breaks or goes silent. A broken connection (reset, Redis restart, ``CLIENT
KILL``), a reconnect and a forked child each drop every copy. A silent one stops being
trusted: copies count only while the connection answered a PING within ``TRUST_SECONDS``
(1.5 s; one is sent every ``HEARTBEAT_SECONDS`` of traffic), which also bounds a backlog of
pushes queued behind a PING. ``FLUSHDB``/``FLUSHALL`` push a null invalidation (every copy
goes); this process's own ``cache.clear()`` drops them at once. Eviction and expiry of a token
are pushed like writes. A token write that fails (Redis unreachable) stays owed in the writer
(``seals.snapshot``), where no copy is trusted until it is written.

The TTL bound: a copy lives no longer than the shared snapshot it came from
(``SNAPSHOT_TTL``, 300 s from its load), which bounds only the age of the copied chain head;
no status depends on it, because (c) recomputes the status from stored facts per request.

Expiry moments need no invalidation at all: valid-from and expiry are stored facts in the
snapshot, so (c) flips on the first request past the moment, on every node at once, and (d)
on the first request of a new day. The replayed ``Cache-Control`` is recomputed per request
by the view's own ``seals.public_views.cache_control``: max-age plus either stale window never
reaches past the next scheduled change or midnight UTC, so no cache downstream keeps the old
image past it either.

Limits, stated plainly: across a network the invalidation is a packet already sent when the
writer's answer leaves, so a request overtaking it on another path could see the old copy for
that transit time. Without Redis ≥ 6, with more than one cache server (a lagging replica could
answer after the push) or on the local-memory cache there are no copies: every hit goes
through Django, one round trip slower, still correct.
"""
