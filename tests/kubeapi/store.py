"""The object store: etcd plus the apiserver's watch cache, in memory.

Every write takes the next global resourceVersion (like an etcd
revision) and appends an event (type, object after, object before) to a
log. The log serves three things:

- watches that resume from a resourceVersion (events after it);
- consistent lists at an older resourceVersion (resourceVersionMatch=Exact
  and continue tokens): the current state with later events undone;
- compaction: two floors, as in a real cluster. etcd_compacted makes
  Exact lists and continue tokens older than it answer 410; watch_floor
  makes watches from an older resourceVersion get an ERROR 410 event
  ("too old resource version: N (floor)"). Forcing both is what a client
  normally meets; tests may move them separately (after an etcd
  compaction the watch cache still serves its window, recording 22d).
  An automatic window (last N events and/or S seconds) can be configured.

Watchers get events through bounded queues; a watcher that falls
behind by more than its queue is closed, as kube-apiserver terminates
slow watchers.
"""

import copy
import queue
import threading
import time


class LogEvent:
    __slots__ = ("rv", "type", "storage", "key", "obj", "prev", "when")

    def __init__(self, rv, typ, storage, key, obj, prev):
        self.rv = rv
        self.type = typ
        self.storage = storage
        self.key = key
        self.obj = obj
        self.prev = prev
        self.when = time.monotonic()


class Watcher:
    """One open watch: a bounded queue of LogEvents for one storage."""

    def __init__(self, storage, namespace, maxsize):
        self.storage = storage
        self.namespace = namespace
        self.q = queue.Queue(maxsize)
        self.closed = False
        self.close_reason = None     # 'overflow' | 'expired' | 'shutdown'
        self.path = None             # request path, for fault matching

    def offer(self, ev):
        if self.closed:
            return
        if self.namespace and ev.key[0] != self.namespace:
            return
        try:
            self.q.put_nowait(ev)
        except queue.Full:
            self.close("overflow")

    def poke(self, what):
        """Wake the serving thread with a marker ('bookmark', 'expired')."""
        try:
            self.q.put_nowait(what)
        except queue.Full:
            self.close("overflow")

    def close(self, reason="shutdown"):
        if not self.closed:
            self.closed = True
            self.close_reason = reason
            try:
                self.q.put_nowait(None)
            except queue.Full:
                pass


class Store:
    def __init__(self, watch_queue=1000, window_events=0,
                 window_seconds=0.0, max_log=200000):
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self.rv = 0
        self.objects = {}            # storage -> {(ns, name): obj}
        self.log = []                # LogEvent, ascending rv
        self.etcd_compacted = 0
        self.watch_floor = 0
        self.watchers = []
        self.watch_queue = watch_queue
        self.window_events = window_events
        self.window_seconds = window_seconds
        self.max_log = max_log

    # ------------------------------------------------------ reads ----
    def get(self, storage, ns, name):
        with self.lock:
            o = self.objects.get(storage, {}).get((ns or "", name))
            return copy.deepcopy(o) if o is not None else None

    def list(self, storage, ns=None):
        """Sorted [(key, obj)] of current objects (deep copies)."""
        with self.lock:
            items = self.objects.get(storage, {})
            out = [(k, copy.deepcopy(v)) for k, v in items.items()
                   if ns is None or k[0] == ns]
            return sorted(out, key=lambda kv: kv[0]), self.rv

    def snapshot(self, storage, rv, ns=None):
        """Objects as they were at rv; None when rv is compacted."""
        with self.lock:
            if rv < self.etcd_compacted or rv < self._log_floor():
                return None
            state = dict(self.objects.get(storage, {}))
            for ev in reversed(self.log):
                if ev.rv <= rv:
                    break
                if ev.storage != storage:
                    continue
                if ev.type == "ADDED":
                    state.pop(ev.key, None)
                else:
                    state[ev.key] = ev.prev
            out = [(k, copy.deepcopy(v)) for k, v in state.items()
                   if ns is None or k[0] == ns]
            return sorted(out, key=lambda kv: kv[0])

    def _log_floor(self):
        return min(self.etcd_compacted, self.watch_floor)

    def namespaces_exist(self, ns):
        return self.get(("", "namespaces"), "", ns) is not None

    # ----------------------------------------------------- writes ----
    def _append(self, typ, storage, key, obj, prev):
        self.rv += 1
        if obj is not None:
            obj.setdefault("metadata", {})["resourceVersion"] = str(self.rv)
        ev = LogEvent(self.rv, typ, storage, key, copy.deepcopy(obj),
                      copy.deepcopy(prev))
        self.log.append(ev)
        for w in list(self.watchers):
            if w.storage == storage:
                w.offer(ev)
        self._auto_compact()
        self.changed.notify_all()
        return ev

    def put(self, storage, ns, name, obj, expect_rv=None):
        """Create or replace; returns (event type, stored copy)."""
        with self.lock:
            key = (ns or "", name)
            bucket = self.objects.setdefault(storage, {})
            prev = bucket.get(key)
            typ = "MODIFIED" if prev is not None else "ADDED"
            obj = copy.deepcopy(obj)
            self._append(typ, storage, key, obj, prev)
            bucket[key] = obj
            return typ, copy.deepcopy(obj)

    def remove(self, storage, ns, name, last=None):
        """Delete; the DELETED event carries last (or the stored object)."""
        with self.lock:
            key = (ns or "", name)
            bucket = self.objects.setdefault(storage, {})
            prev = bucket.pop(key, None)
            if prev is None:
                return None
            obj = copy.deepcopy(last if last is not None else prev)
            self._append("DELETED", storage, key, obj, prev)
            return copy.deepcopy(obj)

    # ------------------------------------------------- compaction ----
    def compact(self, rv=None, etcd=True, watch=True):
        """Move the compaction floors to rv (default: current rv)."""
        with self.lock:
            rv = self.rv if rv is None else min(int(rv), self.rv)
            if etcd:
                self.etcd_compacted = max(self.etcd_compacted, rv)
            if watch:
                self.watch_floor = max(self.watch_floor, rv)
            self._trim()
            return {"etcdCompacted": self.etcd_compacted,
                    "watchFloor": self.watch_floor, "resourceVersion":
                    self.rv}

    def _trim(self):
        floor = self._log_floor()
        i = 0
        while i < len(self.log) and self.log[i].rv <= floor:
            i += 1
        if i:
            del self.log[:i]

    def _auto_compact(self):
        floor = None
        if self.window_events and len(self.log) > self.window_events:
            floor = self.log[-self.window_events - 1].rv
        if self.window_seconds:
            cutoff = time.monotonic() - self.window_seconds
            old = [e.rv for e in self.log if e.when < cutoff]
            if old:
                floor = max(floor or 0, old[-1])
        if len(self.log) > self.max_log:
            floor = max(floor or 0, self.log[-self.max_log].rv)
        if floor is not None:
            self.etcd_compacted = max(self.etcd_compacted, floor)
            self.watch_floor = max(self.watch_floor, floor)
            self._trim()

    # ---------------------------------------------------- watches ----
    def watch(self, storage, ns, from_rv):
        """Register a watcher.

        from_rv None: start now, returning the current objects (for the
        synthetic ADDED events). from_rv N: returns the logged events after
        N. Raises ValueError('too old', floor) when N is below the watch
        floor.
        """
        with self.lock:
            w = Watcher(storage, ns, self.watch_queue)
            if from_rv is None:
                items = [(k, copy.deepcopy(v)) for k, v in
                         self.objects.get(storage, {}).items()
                         if not ns or k[0] == ns]
                initial = sorted(items, key=lambda kv: kv[0])
                replay = []
            else:
                if from_rv < self.watch_floor:
                    raise TooOld(from_rv, self.watch_floor)
                initial = None
                replay = [e for e in self.log if e.rv > from_rv and
                          e.storage == storage and
                          (not ns or e.key[0] == ns)]
            self.watchers.append(w)
            return w, initial, replay, self.rv

    def unwatch(self, w):
        with self.lock:
            if w in self.watchers:
                self.watchers.remove(w)
            w.close()

    def close_watchers(self, reason="shutdown", pred=None):
        with self.lock:
            n = 0
            for w in list(self.watchers):
                if pred is None or pred(w):
                    w.close(reason)
                    n += 1
            return n

    def wait_rv(self, rv, timeout):
        """Block until the store reaches rv; False on timeout."""
        deadline = time.monotonic() + timeout
        with self.lock:
            while self.rv < rv:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.changed.wait(left)
            return True

    def state(self):
        with self.lock:
            return {"resourceVersion": str(self.rv),
                    "etcdCompacted": self.etcd_compacted,
                    "watchFloor": self.watch_floor,
                    "logEvents": len(self.log),
                    "watchers": len(self.watchers)}


class TooOld(Exception):
    def __init__(self, rv, floor):
        Exception.__init__(self, "too old resource version: %d (%d)"
                           % (rv, floor))
        self.rv = rv
        self.floor = floor
