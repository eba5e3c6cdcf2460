"""A Python peer of @luaipc/channel: messages between processes through shared memory.

Standard library only (mmap, os, fcntl, select, threading). Speaks version 1 of the wire layout
in the package README ("Wire spec"); Linux (the segment is /dev/shm/<name>).

    import luaipc_channel

    tx = luaipc_channel.connect('jobs')        # a sender: its own ring in the channel
    tx.send(b'hello')                           # True, or False when no room came in time
    tx.close()

    rx = luaipc_channel.create('jobs', capacity=1 << 20)
    msg = rx.receive(timeout=1.0)               # bytes, or None when nothing came in time
    rx.close()                                  # removes the channel's names

Timeouts are seconds: None or negative waits forever, 0 only tries. OS failures are OSErrors
with errno (ENOENT, EEXIST, EPIPE when the receiver is gone, ECONNREFUSED, EPROTO when a name
is not a channel); a message larger than max_message is a ValueError. A Sender or Receiver is
for one thread at a time.

Memory ordering: CPython has no atomic operations or fences. Every 32-bit word of the layout is
read and written as one aligned item of a memoryview cast to 'I' (CPython copies such an item
with a fixed 4-byte memcpy: one load or store, single-copy atomic on x64 and arm64), and where
the protocol needs a full fence (record before tail, tail before the receiver's sleeping flag,
and the mirror images on the receiving side) the object releases and re-acquires a lock of its
own: a release followed by an acquire, which CPython's locks implement with atomic
read-modify-write instructions (lock-prefixed on x64; release then acquire on arm64, which the
architecture orders). See the README for the whole argument.
"""

import errno as _errno
import fcntl
import mmap
import os
import select
import stat
import sys
import threading
import time

__all__ = ['connect', 'create', 'unlink', 'Sender', 'Receiver', 'MAX_CAPACITY', 'MAX_SENDERS']

MAGIC = b'LUAIPCCH'
VERSION = 1
H_VERSION, H_HEADER_BYTES, H_LANES, H_CAPACITY, H_MAX_MESSAGE, H_DIR = 8, 12, 16, 20, 24, 28
H_STATE, H_PID, H_REGISTRATIONS, H_SLEEPING = 32, 36, 40, 64
LANE_TABLE, LANE_STRIDE = 128, 128
L_TAIL, L_STATE, L_WAITING, L_PID, L_CLAIMS, L_HEAD = 0, 4, 8, 12, 16, 64
LANE_FREE, LANE_ACTIVE, LANE_CLOSED = 0, 1, 2
_LANE_STATES = (LANE_FREE, LANE_ACTIVE, LANE_CLOSED)
RX_OPEN, RX_CLOSED = 1, 2
LOCK_REGISTER, LOCK_RECEIVER, LOCK_LANE = 0, 1, 64
PAGE = 4096
MIN_CAPACITY = PAGE
MAX_CAPACITY = 1 << 30
MAX_SENDERS = 1024
NAME_MAX = 248
DIRS = ('/dev/shm', '/tmp')
_REGISTER_WAIT = 5.0
_BATCH_BYTES = 256 * 1024


def _record(length):
    return (4 + length + 7) & ~7


def _header_bytes(lanes):
    return -(-(LANE_TABLE + lanes * LANE_STRIDE) // PAGE) * PAGE


def _oserror(code, name, what=None):
    return OSError(code, what or os.strerror(code), name)


def _check_name(name):
    if not isinstance(name, str):
        raise TypeError('name must be a str')
    if name in ('', '.', '..') or '/' in name or '\0' in name:
        raise ValueError('invalid channel name %r' % (name,))
    if len(name.encode()) > NAME_MAX:
        raise _oserror(_errno.ENAMETOOLONG, name)
    return name


def _as_bytes(data):
    if isinstance(data, str):
        return data.encode()
    return memoryview(data).cast('B')


# ---- locks: classic POSIX record locks on <dir>/<name>.lock ----
#
# They belong to the process and all vanish when any descriptor of the file is closed, so the
# process keeps one descriptor per lock file (never closed while a lock on it is held) and
# remembers which object holds which byte.

_files_guard = threading.Lock()
_files = {}


class _LockFile:
    def __init__(self, fd, key):
        self.fd = fd
        self.key = key
        self.refs = 0
        self.held = {}  # byte -> the _Locks holding it
        self.guard = threading.Lock()


class _Locks:
    def __init__(self, name, directory):
        path = '%s/%s.lock' % (directory, name)
        with _files_guard:
            st = os.stat(path)
            key = (st.st_dev, st.st_ino)
            entry = _files.get(key)
            if entry is None:
                fd = os.open(path, os.O_RDWR)
                st = os.fstat(fd)
                key = (st.st_dev, st.st_ino)
                entry = _files.get(key)
                if entry is None:
                    entry = _files[key] = _LockFile(fd, key)
                # else: the path was replaced between stat and open; the descriptor stays open
                # with the process (closing it would drop the process's locks on that file).
            entry.refs += 1
        self._file = entry

    def trylock(self, at):
        f = self._file
        with f.guard:
            owner = f.held.get(at)
            if owner is not None:
                return owner is self
            try:
                fcntl.lockf(f.fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, at, os.SEEK_SET)
            except OSError as e:
                if e.errno in (_errno.EAGAIN, _errno.EACCES):
                    return False
                raise
            f.held[at] = self
            return True

    def unlock(self, at):
        f = self._file
        with f.guard:
            if f.held.get(at) is self:
                del f.held[at]
                fcntl.lockf(f.fd, fcntl.LOCK_UN, 1, at, os.SEEK_SET)

    def held(self, at):
        """Whether someone else holds byte `at` (a brief trylock: fcntl's F_GETLK needs a struct
        layout the stdlib does not give)."""
        f = self._file
        with f.guard:
            owner = f.held.get(at)
            if owner is not None:
                return owner is not self
            try:
                fcntl.lockf(f.fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, at, os.SEEK_SET)
            except OSError as e:
                if e.errno in (_errno.EAGAIN, _errno.EACCES):
                    return True
                raise
            fcntl.lockf(f.fd, fcntl.LOCK_UN, 1, at, os.SEEK_SET)
            return False

    def close(self):
        f = self._file
        if f is None:
            return
        self._file = None
        with _files_guard:
            with f.guard:
                for at in [a for a, o in f.held.items() if o is self]:
                    del f.held[at]
                    fcntl.lockf(f.fd, fcntl.LOCK_UN, 1, at, os.SEEK_SET)
            f.refs -= 1
            if f.refs == 0:
                del _files[f.key]
                os.close(f.fd)


# ---- the mapped segment ----

class _Segment:
    def __init__(self, fd, size):
        self.fd = fd
        self.size = size
        self.map = mmap.mmap(fd, size)
        self.bytes = memoryview(self.map)
        self.words = self.bytes.cast('I')
        # The fence: this lock is held, and fence() releases it and takes it again.
        self._fence = threading.Lock()
        self._fence.acquire()

    def fence(self):
        self._fence.release()
        self._fence.acquire()

    def get(self, offset):
        return self.words[offset >> 2]

    def put(self, offset, value):
        self.words[offset >> 2] = value & 0xFFFFFFFF

    def close(self):
        self.words.release()
        self.bytes.release()
        self.map.close()
        os.close(self.fd)


def _geometry(seg, name):
    b = seg.bytes
    if seg.size < LANE_TABLE:
        raise _oserror(_errno.EPROTO, name, 'not a channel: too small')
    seg.get(0)
    seg.fence()
    if bytes(b[0:8]) != MAGIC:
        raise _oserror(_errno.EPROTO, name, 'not a channel: no channel header (wrong magic)')
    version = seg.get(H_VERSION)
    if version != VERSION:
        raise _oserror(_errno.EPROTO, name,
                       'channel version %d, this one speaks version %d' % (version, VERSION))
    lanes, capacity = seg.get(H_LANES), seg.get(H_CAPACITY)
    header, max_message, directory = seg.get(H_HEADER_BYTES), seg.get(H_MAX_MESSAGE), seg.get(H_DIR)
    sane = (1 <= lanes <= MAX_SENDERS and MIN_CAPACITY <= capacity <= MAX_CAPACITY
            and capacity & (capacity - 1) == 0 and header == _header_bytes(lanes)
            and max_message == capacity - 4 and directory in (0, 1)
            and seg.size == header + lanes * capacity)
    if not sane:
        raise _oserror(_errno.EPROTO, name, 'not a channel: its header does not add up')
    return lanes, capacity, header, max_message, DIRS[directory]


def _bell_path(directory, name, lane):
    return '%s/%s.%s' % (directory, name, 'rx' if lane < 0 else 'tx%d' % lane)


def _ring_fd(fd):
    """One ring of a doorbell. False when nobody listens any more (EPIPE)."""
    try:
        os.write(fd, b'\x01')
    except BlockingIOError:
        pass  # the FIFO is full of rings not taken yet
    except BrokenPipeError:
        return False
    return True


def _drain(fd):
    try:
        while os.read(fd, 256):
            pass
    except BlockingIOError:
        pass


def _listen(path):
    """The waiting side of a doorbell: made if missing, opened read-write and non-blocking."""
    try:
        os.mkfifo(path, 0o600)
    except FileExistsError:
        pass
    fd = os.open(path, os.O_RDWR | os.O_NONBLOCK)
    if not stat.S_ISFIFO(os.fstat(fd).st_mode):
        os.close(fd)
        raise _oserror(_errno.EEXIST, path)
    return fd


def _check_timeout(timeout):
    """None or a number of seconds; NaN is a ValueError (it compares false with everything, so
    it would wait for ever), as Node's RangeError."""
    if timeout is None:
        return
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise TypeError('timeout must be None or a number of seconds, not %s' % type(timeout).__name__)
    if timeout != timeout:
        raise ValueError('timeout must not be NaN')


def _deadline(timeout):
    if timeout is None or timeout < 0:
        return None
    return time.monotonic() + timeout


class _Handle:
    """What Sender and Receiver share: the mapped segment, the locks, a doorbell, the geometry,
    `with` support and the closed check."""

    closed = False
    _failure = None

    def __init__(self, name, seg, locks, bell_fd, geometry):
        self.name = name
        self._seg = seg
        self._locks = locks
        self._bell = bell_fd
        self.lanes, self.capacity, self._header, self.max_message, self._dir = geometry

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _check(self):
        if self.closed:
            raise ValueError('attempt to use a closed channel')
        if self._failure is not None:
            raise self._failure


class Sender(_Handle):
    """The sending end of a channel (from connect()): a ring of its own in the segment."""

    def __init__(self, name, seg, locks, bell_fd, geometry, lane, tail):
        super().__init__(name, seg, locks, bell_fd, geometry)
        self.lane = lane
        self._ring = self._header + lane * self.capacity
        block = LANE_TABLE + lane * LANE_STRIDE
        self._tail_at, self._head_at = block + L_TAIL, block + L_HEAD
        self._waiting_at, self._state_at = block + L_WAITING, block + L_STATE
        self._tail = self._head = tail
        self._rang_for = 0  # the receiver's sleep this sender last rang for: one ring per sleep
        self._wait_fd = None

    def _fail(self, code, what=None):
        if self._failure is None:
            self._failure = _oserror(code, self.name, what)
        return self._failure

    def _write(self, data):
        seg = self._seg
        n = len(data)
        record = _record(n)
        cap = self.capacity
        tail = self._tail
        if cap - ((tail - self._head) & 0xFFFFFFFF) < record:
            head = seg.get(self._head_at)
            # The receiver has finished with what lies before its head: our writes come after.
            seg.fence()
            used = (tail - head) & 0xFFFFFFFF
            if used > cap:
                raise self._fail(_errno.EPROTO, 'the receiver wrote a head outside the ring')
            self._head = head
            if cap - used < record:
                return False
        if seg.get(H_STATE) != RX_OPEN:
            raise self._fail(_errno.EPIPE)
        off = tail & (cap - 1)
        seg.put(self._ring + off, n)
        at = (off + 4) & (cap - 1)
        base = self._ring
        first = min(n, cap - at)
        seg.bytes[base + at:base + at + first] = data[:first]
        if first < n:
            seg.bytes[base:base + n - first] = data[first:]
        tail = (tail + record) & 0xFFFFFFFF
        self._tail = tail
        seg.fence()  # the record before the tail that publishes it
        seg.put(self._tail_at, tail)
        seg.fence()  # the tail before the look at the receiver's sleeping flag
        sleep = seg.get(H_SLEEPING)
        if sleep != 0 and sleep != self._rang_for:
            self._rang_for = sleep
            if not _ring_fd(self._bell):
                raise self._fail(_errno.EPIPE)
        return True

    def _alive(self):
        if self._seg.get(H_STATE) != RX_OPEN or not self._locks.held(LOCK_RECEIVER):
            raise self._fail(_errno.EPIPE)

    def _payload(self, data):
        self._check()
        data = _as_bytes(data)
        if len(data) > self.max_message:
            raise ValueError('message of %d bytes is longer than max_message (%d)'
                             % (len(data), self.max_message))
        return data

    def try_send(self, data):
        """Sends data (bytes-like, or str as UTF-8) if the ring has room; never waits."""
        data = self._payload(data)
        if self._write(data):
            return True
        self._alive()
        return False

    def send(self, data, timeout=None):
        """Sends data, waiting for room up to timeout seconds (None: forever). True once sent,
        False at the timeout; OSError EPIPE when the receiver is gone (noticed within a second)."""
        data = self._payload(data)
        _check_timeout(timeout)
        if self._write(data):
            return True
        if timeout == 0:
            self._alive()
            return False
        deadline = _deadline(timeout)
        seg = self._seg
        if self._wait_fd is None:
            self._wait_fd = _listen(_bell_path(self._dir, self.name, self.lane))
        try:
            while True:
                seg.put(self._waiting_at, _record(len(data)))
                seg.fence()  # the flag before the look at the head (the receiver does the mirror)
                if self._write(data):
                    return True
                left = 1.0 if deadline is None else min(1.0, deadline - time.monotonic())
                if left <= 0:
                    return False
                ready, _, _ = select.select([self._wait_fd], [], [], left)
                _drain(self._wait_fd)
                self._check()
                if not ready:
                    self._alive()
        finally:
            if not self.closed:
                seg.put(self._waiting_at, 0)

    def close(self):
        """Closes the sender; what it sent is still delivered. Idempotent."""
        if self.closed:
            return
        self.closed = True
        seg = self._seg
        try:
            seg.put(self._waiting_at, 0)
            seg.put(self._state_at, LANE_CLOSED)
            seg.fence()
            if seg.get(H_SLEEPING) != 0:
                _ring_fd(self._bell)
        finally:
            if self._wait_fd is not None:
                os.close(self._wait_fd)
            os.close(self._bell)
            self._locks.close()
            seg.close()


class _Creating(Exception):
    """The segment is there but its creator has not written the header yet."""


def connect(name):
    """Connects to channel `name` as a new sender. A channel caught while it is being created is
    waited for, briefly."""
    _check_name(name)
    deadline = time.monotonic() + 1.0
    while True:
        try:
            return _connect(name, time.monotonic() < deadline)
        except _Creating:
            time.sleep(0.001)


def _connect(name, wait):
    fd = os.open('/dev/shm/' + name, os.O_RDWR)
    seg = None
    locks = None
    bell = None
    try:
        size = os.fstat(fd).st_size
        if size < LANE_TABLE:
            if wait:
                raise _Creating()
            raise _oserror(_errno.EPROTO, name, 'not a channel: too small')
        seg = _Segment(fd, size)
        fd = None
        # The magic's first word is stored last by the creator (its second word goes with the
        # other fields, before it): while it is 0 the channel is being created.
        if wait and bytes(seg.bytes[0:4]) == bytes(4):
            raise _Creating()
        geometry = _geometry(seg, name)
        lanes, capacity, header, _, directory = geometry
        refused = _oserror(_errno.ECONNREFUSED, name)
        if seg.get(H_STATE) != RX_OPEN:
            raise refused
        try:
            locks = _Locks(name, directory)
        except FileNotFoundError:
            raise refused from None
        if not locks.held(LOCK_RECEIVER):
            raise refused
        try:
            bell = os.open(_bell_path(directory, name, -1), os.O_WRONLY | os.O_NONBLOCK)
        except OSError as e:
            if e.errno in (_errno.ENOENT, _errno.ENXIO):
                raise refused from None
            raise
        lane, tail = _claim(name, seg, locks, lanes, capacity, header)
        return Sender(name, seg, locks, bell, geometry, lane, tail)
    except BaseException:
        if bell is not None:
            os.close(bell)
        if locks is not None:
            locks.close()
        if seg is not None:
            seg.close()
        if fd is not None:
            os.close(fd)
        raise


def _claim(name, seg, locks, lanes, capacity, header):
    deadline = time.monotonic() + _REGISTER_WAIT
    nap = 0.00005
    while not locks.trylock(LOCK_REGISTER):
        if time.monotonic() > deadline:
            raise _oserror(_errno.ETIMEDOUT, name, "the channel's registration lock stayed taken")
        time.sleep(nap)
        nap = min(nap * 2, 0.01)
    try:
        seg.fence()
        for lane in range(lanes):
            block = LANE_TABLE + lane * LANE_STRIDE
            if seg.get(block + L_STATE) != LANE_FREE:
                continue
            if not locks.trylock(LOCK_LANE + lane):
                continue
            try:
                os.posix_fallocate(seg.fd, header + lane * capacity, capacity)
            except OSError:
                locks.unlock(LOCK_LANE + lane)
                raise
            head = seg.get(block + L_HEAD)
            seg.put(block + L_TAIL, head)
            seg.put(block + L_WAITING, 0)
            seg.put(block + L_PID, os.getpid())
            seg.put(block + L_CLAIMS, seg.get(block + L_CLAIMS) + 1)
            seg.fence()
            seg.put(block + L_STATE, LANE_ACTIVE)
            seg.put(H_REGISTRATIONS, seg.get(H_REGISTRATIONS) + 1)
            seg.fence()
            return lane, head
    finally:
        locks.unlock(LOCK_REGISTER)
    raise _oserror(_errno.EAGAIN, name, 'all %d sender slots are taken' % lanes)


class Receiver(_Handle):
    """The receiving end of a channel (from create())."""

    def __init__(self, name, seg, locks, bell_fd, geometry, ident):
        super().__init__(name, seg, locks, bell_fd, geometry)
        self._ident = ident
        self._heads = [0] * self.lanes
        self._active = []
        self._registrations = None
        self._queue = []
        self._queue_at = 0
        self._lane_bells = {}
        self._next = 0
        self._swept = time.monotonic()
        self._sleeps = 0  # the number of our last sleep, what H_SLEEPING holds while we sleep

    def try_receive(self):
        """The next message (bytes), or None when none is waiting. Never waits."""
        self._check()
        if self._queue_at == len(self._queue):
            self._queue = []
            self._queue_at = 0
            self._fill()
            if not self._queue:
                return None
        msg = self._queue[self._queue_at]
        self._queue_at += 1
        return msg

    def receive(self, timeout=None):
        """The next message, waiting up to timeout seconds (None: forever); None at the timeout."""
        _check_timeout(timeout)
        msg = self.try_receive()
        if msg is not None or timeout == 0:
            return msg
        deadline = _deadline(timeout)
        seg = self._seg
        try:
            while True:
                # A number of its own per sleep (never 0, which says awake): senders ring once
                # per number and never write the word.
                self._sleeps = 1 if self._sleeps >= 0x7FFFFFFF else self._sleeps + 1
                seg.put(H_SLEEPING, self._sleeps)
                seg.fence()  # the flag before the look at the tails (senders do the mirror)
                msg = self.try_receive()
                if msg is not None:
                    return msg
                left = 1.0 if deadline is None else min(1.0, deadline - time.monotonic())
                if left <= 0:
                    return None
                select.select([self._bell], [], [], left)
                _drain(self._bell)
                seg.put(H_SLEEPING, 0)
                if time.monotonic() - self._swept >= 1.0:
                    self.senders
                msg = self.try_receive()
                if msg is not None:
                    return msg
        finally:
            if not self.closed:
                seg.put(H_SLEEPING, 0)

    def _refresh(self, registrations):
        seg = self._seg
        self._registrations = registrations
        active = []
        for lane in range(self.lanes):
            block = LANE_TABLE + lane * LANE_STRIDE
            if seg.get(block + L_STATE) in (LANE_ACTIVE, LANE_CLOSED):
                active.append(lane)
                self._heads[lane] = seg.get(block + L_HEAD)
        self._active = active

    def _fill(self):
        seg = self._seg
        registrations = seg.get(H_REGISTRATIONS)
        if registrations != self._registrations:
            seg.fence()
            self._refresh(registrations)
        active = self._active
        budget = _BATCH_BYTES
        n = len(active)
        start = self._next % n if n else 0
        self._next += 1
        for i in range(n):
            if budget <= 0:
                break
            budget -= self._drain_lane(active[(start + i) % n], budget)

    def _drain_lane(self, lane, budget):
        seg = self._seg
        block = LANE_TABLE + lane * LANE_STRIDE
        tail = seg.get(block + L_TAIL)
        seg.fence()  # the tail before the records it publishes
        head = self._heads[lane]
        avail = (tail - head) & 0xFFFFFFFF
        if avail == 0:
            if seg.get(block + L_STATE) == LANE_CLOSED:
                self._reclaim(lane)
            return 0
        cap = self.capacity
        if avail > cap or avail % 8:
            return self._discard(lane, tail)
        ring = self._header + lane * cap
        want = min(avail, max(budget, 4))
        at = head & (cap - 1)
        first = min(want, cap - at)
        # Copy first, then read lengths from the copy: another process cannot change them there.
        chunk = bytes(seg.bytes[ring + at:ring + at + first])
        if first < want:
            chunk += bytes(seg.bytes[ring:ring + want - first])
        pos = 0
        taken = []
        while pos + 4 <= want:
            length = int.from_bytes(chunk[pos:pos + 4], 'little')
            record = _record(length)
            if length > self.max_message or record > avail - pos:
                return self._discard(lane, tail)
            if pos + record > want:
                if pos > 0:
                    break
                # One message larger than this batch: copied on its own.
                start = (head + 4) & (cap - 1)
                first = min(length, cap - start)
                msg = bytes(seg.bytes[ring + start:ring + start + first])
                if first < length:
                    msg += bytes(seg.bytes[ring:ring + length - first])
                taken.append(msg)
                pos = record
                break
            taken.append(chunk[pos + 4:pos + 4 + length])
            pos += record
        head = (head + pos) & 0xFFFFFFFF
        self._heads[lane] = head
        seg.fence()  # the copies before the head that lets the sender overwrite them
        seg.put(block + L_HEAD, head)
        seg.fence()  # the head before the look at the sender's waiting flag
        self._queue.extend(taken)
        # A waiting sender is rung once half the ring (or what it needs, if more) is free.
        needed = seg.get(block + L_WAITING)
        if needed and cap - ((tail - head) & 0xFFFFFFFF) >= max(needed, cap >> 1):
            self._ring_lane(lane)
        return pos

    def _discard(self, lane, tail):
        self._heads[lane] = tail
        self._seg.put(LANE_TABLE + lane * LANE_STRIDE + L_HEAD, tail)
        return 0

    def _ring_lane(self, lane):
        fd = self._lane_bells.get(lane)
        if fd is None:
            try:
                fd = os.open(_bell_path(self._dir, self.name, lane), os.O_WRONLY | os.O_NONBLOCK)
            except OSError:
                return
            self._lane_bells[lane] = fd
        if not _ring_fd(fd):
            os.close(self._lane_bells.pop(lane))

    @property
    def senders(self):
        """How many senders are connected and alive (a lock test each)."""
        if self.closed:
            return 0
        self._swept = time.monotonic()
        seg = self._seg
        live = 0
        for lane in range(self.lanes):
            state = seg.get(LANE_TABLE + lane * LANE_STRIDE + L_STATE)
            if state == LANE_FREE:
                continue
            if state == LANE_ACTIVE and self._locks.held(LOCK_LANE + lane):
                live += 1
            else:
                self._reclaim(lane)
        return live

    def _reclaim(self, lane):
        seg = self._seg
        block = LANE_TABLE + lane * LANE_STRIDE
        tail = seg.get(block + L_TAIL)
        if seg.get(block + L_STATE) not in _LANE_STATES and not self._locks.held(LOCK_LANE + lane):
            # A state no peer writes (a hostile or broken one), and nobody holds the slot:
            # nothing in it can be delivered, and no claim takes a slot that is not free.
            # Dropped, then freed.
            self._discard(lane, tail)
        if tail != seg.get(block + L_HEAD):
            return
        if not self._locks.trylock(LOCK_REGISTER):
            return
        try:
            state = seg.get(block + L_STATE)
            if state == LANE_FREE:
                return
            if state == LANE_ACTIVE and self._locks.held(LOCK_LANE + lane):
                return
            seg.put(block + L_STATE, LANE_FREE)
            seg.put(block + L_WAITING, 0)
            # The next claim starts at this head: 0, whatever a hostile peer left (records
            # are 8-byte aligned from it).
            seg.put(block + L_HEAD, 0)
            self._heads[lane] = 0
            seg.put(H_REGISTRATIONS, seg.get(H_REGISTRATIONS) + 1)
            seg.fence()
            fd = self._lane_bells.pop(lane, None)
            if fd is not None:
                os.close(fd)
            _remove_ours(_bell_path(self._dir, self.name, lane))
        finally:
            self._locks.unlock(LOCK_REGISTER)

    def close(self):
        """Closes the receiver and removes the channel's names (if they are still its own)."""
        if self.closed:
            return
        self.closed = True
        seg = self._seg
        try:
            seg.put(H_STATE, RX_CLOSED)
            seg.fence()
            for lane in range(self.lanes):
                if seg.get(LANE_TABLE + lane * LANE_STRIDE + L_WAITING):
                    self._ring_lane(lane)
        finally:
            for fd in self._lane_bells.values():
                os.close(fd)
            self._lane_bells.clear()
            try:
                st = os.stat('/dev/shm/' + self.name)
                if (st.st_dev, st.st_ino) == self._ident:
                    _remove(self.name, self._dir)
            except FileNotFoundError:
                pass
            os.close(self._bell)
            self._locks.close()
            seg.close()


def _remove_ours(path, lock_file=False):
    """Removes `path` if it is what a channel makes there: a FIFO (a doorbell) or, for the lock
    file, an empty regular file. Anything else has the name by collision and is not ours."""
    try:
        st = os.lstat(path)
        ours = stat.S_ISREG(st.st_mode) and st.st_size == 0 if lock_file else stat.S_ISFIFO(st.st_mode)
        if ours:
            os.unlink(path)
    except FileNotFoundError:
        pass


def _remove(name, directory):
    """Removes the segment, lock file and doorbells of `name` (whatever exists of them)."""
    try:
        os.unlink('/dev/shm/' + name)
    except FileNotFoundError:
        pass
    for d in (directory,) if directory else DIRS:
        _remove_ours(d + '/' + name + '.lock', lock_file=True)
        _remove_ours(d + '/' + name + '.rx')
        prefix = name + '.tx'
        try:
            entries = os.listdir(d)
        except OSError:
            continue
        for entry in entries:
            rest = entry[len(prefix):]
            if entry.startswith(prefix) and rest.isdigit() and len(rest) <= 4:
                _remove_ours(d + '/' + entry)


def create(name, capacity=1 << 20, max_senders=64):
    """Creates channel `name` and returns its receiver. capacity: bytes of each sender's ring,
    rounded up to a power of two (4096 .. 2**30); max_senders: 1 .. 1024."""
    _check_name(name)
    if not isinstance(capacity, int) or not 1 <= capacity <= MAX_CAPACITY:
        raise ValueError('capacity must be an int from 1 to %d' % MAX_CAPACITY)
    if not isinstance(max_senders, int) or not 1 <= max_senders <= MAX_SENDERS:
        raise ValueError('max_senders must be an int from 1 to %d' % MAX_SENDERS)
    cap = MIN_CAPACITY
    while cap < capacity:
        cap *= 2
    lanes = max_senders
    header = _header_bytes(lanes)
    size = header + lanes * cap
    directory = DIRS[0]
    path = '/dev/shm/' + name
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    seg = locks = bell = None
    ident = None
    try:
        st = os.fstat(fd)
        ident = (st.st_dev, st.st_ino)
        os.ftruncate(fd, size)
        os.posix_fallocate(fd, 0, header)
        seg = _Segment(fd, size)
        # Exclusively: a lock file or doorbell that exists is someone else's (one left by a
        # receiver that was killed goes with unlink(name), as its segment does).
        lock_path = '%s/%s.lock' % (directory, name)
        os.close(os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600))
        locks = _Locks(name, directory)
        if not locks.trylock(LOCK_RECEIVER):
            raise _oserror(_errno.EBUSY, name)
        bell_path = _bell_path(directory, name, -1)
        os.mkfifo(bell_path, 0o600)
        bell = _listen(bell_path)
        for offset, value in ((H_VERSION, VERSION), (H_HEADER_BYTES, header), (H_LANES, lanes),
                              (H_CAPACITY, cap), (H_MAX_MESSAGE, cap - 4), (H_DIR, 0),
                              (H_STATE, RX_OPEN), (H_PID, os.getpid())):
            seg.put(offset, value)
        seg.bytes[4:8] = MAGIC[4:8]
        seg.fence()  # the magic last: a sender that sees it finds the rest in place
        seg.put(0, int.from_bytes(MAGIC[0:4], 'little'))
        return Receiver(name, seg, locks, bell, (lanes, cap, header, cap - 4, directory), ident)
    except BaseException:
        if bell is not None:
            os.close(bell)
        if locks is not None:
            locks.close()
        if seg is not None:
            seg.close()
        else:
            os.close(fd)
        _remove(name, directory)
        raise


def unlink(name):
    """Removes channel `name` (segment, lock file, doorbells), e.g. one whose receiver was killed."""
    _check_name(name)
    exists = os.path.exists('/dev/shm/' + name)
    _remove(name, None)
    if not exists:
        raise FileNotFoundError(_errno.ENOENT, os.strerror(_errno.ENOENT), name)


if sys.platform != 'linux':  # pragma: no cover
    raise ImportError('luaipc_channel needs Linux (/dev/shm)')
