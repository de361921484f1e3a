"""Split a UN/EDIFACT interchange into checked messages.

Copes with what real files do: a UTF-8 byte-order mark, a whole interchange on one line or a
segment per line (blank lines included), a UNA service string advice with other separators and
a release character, messages without a UNB envelope, UNG/UNE functional groups, several
messages in one interchange. Each message's UNT segment count and reference are checked; a
message that fails, or that a truncated file cuts short, is rejected with its location while the
messages before it are kept. A UNT whose count or reference disagrees with the message (seen in
real files, the SMDG manual's own BAPLIE 3.1 example included) keeps the message and flags it,
naming the message and both counts.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from pydifact import Parser
from pydifact.exceptions import EDISyntaxError
from pydifact.segments import Segment
from pydifact.serializer import Serializer

from scheldt.domain.declarations import Flag
from scheldt.ingest.base import Rejection


@dataclass(frozen=True)
class Message:
    """One UNH..UNT message: reference, type (``BAPLIE``), version (``D:95B``), association
    code (``SMDG20``; empty if none), its segments (UNH and UNT included), where it starts."""

    ref: str
    type: str
    version: str
    association: str
    segments: list[Segment]
    where: str
    flags: tuple[Flag, ...] = ()
    #: True when the message breaks off before its UNT: its segments end without one, and a
    #: reader keeps only the segment groups that certainly ended before the break.
    truncated: bool = False
    #: The segment the file broke off inside, as far as it was written (its tag and first data
    #: element, default separators), when the break fell inside one: if it began a segment group,
    #: the group before it had ended (an ingest review's last complete container group was lost).
    cut_in: Segment | None = None


def text_of(data: bytes) -> str:
    """Decode an interchange: UTF-8 (byte-order marks dropped, also one before an interchange
    or message further on: files joined end to end), else Latin-1 (UNOA-UNOC files); in a file
    that is not UTF-8 throughout, each interchange (from its UNA or UNB) on its own terms: a
    terminal review's UTF-8 interchange joined to a Latin-1 one had its names garbled
    ("PacÃ\xadfico"), and sent again alone it read as a consignee change."""
    try:
        return _INNER_BOM.sub("", data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        pass
    # each segment terminator a UNA advises (its ninth byte) ends an interchange as "'" does (a
    # regression review's "UNA:+.? ~" file was decoded as one)
    ends = sorted({b"'", *(m.group(1) for m in _UNA_TERMINATOR.finditer(data) if not m.group(1).isspace())})
    starts = [0, *(m.end() for m in re.finditer(_INTERCHANGE_START % re.escape(b"".join(ends)), data)), len(data)]
    return "".join(_decoded(data[a:b]) for a, b in zip(starts, starts[1:]) if b > a)


def _decoded(part: bytes) -> str:
    """One interchange's text: UTF-8 (its byte-order marks dropped), else Latin-1."""
    try:
        return _INNER_BOM.sub("", part.decode("utf-8-sig"))
    except UnicodeDecodeError:
        return part.decode("latin-1")


#: The end of a segment (one of the terminators in ``[%s]``, unless escaped by ``?``) followed by
#: line breaks and a byte-order mark before an interchange's UNA or UNB: where one interchange
#: of a file ends.
_INTERCHANGE_START = rb"(?<!\?)[%s][\r\n\t ]*(?=(?:\xef\xbb\xbf)?UN[AB])"
#: A UNA service string advice, at the start of the file or of a line, and its segment terminator
#: (ISO 9735: its sixth character); never "UNA" inside a text (a regression review's "TUNA FISH"
#: made a space a terminator, and a padded file took a minute to split).
_UNA_TERMINATOR = re.compile(rb"(?:\A|['\r\n])[\t ]*(?:\xef\xbb\xbf)?UNA.....(.)", re.DOTALL)


#: A byte-order mark before a service segment inside a file (an EDI review's two interchanges
#: joined with ``cat``, the second with its own mark: the whole file was refused).
_INNER_BOM = re.compile("\ufeff(?=UN[ABGH])")


#: Most characters of a message kept with its Rejection (the quarantine's ``raw``).
RAW_MAX = 200_000


def as_received(segments: list[Any]) -> str:
    """Segments written back as EDIFACT text (default separators, at most :data:`RAW_MAX`
    characters), to keep a rejected message in the quarantine for correcting and re-sending; a
    segment that could not be read (:class:`Unreadable`) as its text, in its place (a regression
    review's quarantined message had lost its unreadable line)."""
    parts: list[str] = []
    run: list[Segment] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for seg in [*segments, None]:
            if isinstance(seg, Segment):
                run.append(seg)
                continue
            if run:
                parts.append(Serializer().serialize(run, with_una_header=False))
                run = []
            if seg is not None:
                parts.append(seg.text + seg.end)
    return "".join(parts)[:RAW_MAX]


def component(segment: Segment, element: int, part: int = 0) -> str:
    """Component ``part`` of data element ``element`` (0-based, after the tag), or ""."""
    if element >= len(segment.elements):
        return ""
    value = segment.elements[element]
    if isinstance(value, list):
        return (value[part] if part < len(value) else "") or ""
    return (value if part == 0 else "") or ""


#: What pydifact raises on text it cannot tokenize: a syntax error, a value it cannot read, and
#: an OSError when it looks up a syntax version named by the UNB as a file (a fuzz review's
#: 4,096-character version stopped the whole ingest: "File name too long").
_TOKEN_ERRORS = (EDISyntaxError, ValueError, IndexError, OSError)


def segments(text: str) -> list[Segment]:
    """Tokenize with pydifact (its own syntax warnings silenced; we report what matters)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return list(Parser().parse(text))


@dataclass(frozen=True)
class Unreadable:
    """A segment pydifact could not read, in its place among the segments: its text (at most
    200 characters) and why. No tag, no elements."""

    text: str
    why: str
    tag: str = ""
    elements: tuple[str, ...] = ()
    #: What followed it in the file: a segment terminator, or a line break (lines that ran into
    #: the next segment).
    end: str = "'"


def _one_by_one(text: str) -> list[Segment | Unreadable]:
    """The segments of ``text`` read one at a time, an :class:`Unreadable` where one cannot be
    read: the way through a file whose whole cannot be tokenised (an EDI review lost four good
    messages to one stray line before the third)."""
    stripped = text.lstrip()
    una = stripped[:9] if stripped.startswith("UNA") and len(stripped) >= 9 else ""
    release, terminator = (una[6], una[8]) if una else ("?", "'")
    out: list[Segment | Unreadable] = []
    try:  # the advice is a segment of its own, as a whole parse counts it
        out += segments(una) if una else []
    except _TOKEN_ERRORS:
        pass
    piece: list[str] = []
    escaped = False
    for ch in text[text.find(una) + len(una):] if una else text:
        if ch == terminator and not escaped:
            raw = "".join(piece).strip()
            piece = []
            if raw and not raw.startswith("UNA"):
                out.extend(_read_piece(una, raw, terminator))
            continue
        escaped = ch == release and not escaped
        piece.append(ch)
    return out


def _read_piece(una: str, raw: str, terminator: str) -> list[Segment | Unreadable]:
    """One terminated piece of text as its segment, or as lines that cannot be read followed
    by the segment its last lines hold (a stray line runs into the next segment, which has no
    terminator of its own between them)."""
    lines = raw.splitlines()
    problem = ""
    for i in range(len(lines)):
        try:
            found = segments(una + "\n".join(lines[i:]) + terminator)
        except _TOKEN_ERRORS as exc:
            problem = problem or str(exc)[:300]
            continue
        read = [seg for seg in found if seg.tag.strip() != "UNA"]  # the advice given with each piece
        return ([Unreadable("\n".join(lines[:i])[:200], problem, end="\n")] if i else []) + read
    return [Unreadable(raw[:200], problem)]


def split_at_last_segment(text: str) -> tuple[str, str]:
    """Split ``text`` after its last segment terminator (from UNA, default ``'``), honouring the
    release character; returns (complete part, unterminated tail)."""
    terminator, release = "'", "?"
    stripped = text.lstrip()
    if stripped.startswith("UNA") and len(stripped) >= 9:
        release, terminator = stripped[6], stripped[8]
    end = len(text)
    while True:
        pos = text.rfind(terminator, 0, end)
        if pos < 0:
            return "", text
        releases = 0
        while pos - releases - 1 >= 0 and text[pos - releases - 1] == release:
            releases += 1
        if releases % 2 == 0 and not (stripped.startswith("UNA") and pos == text.find("UNA") + 8):
            return text[: pos + 1], text[pos + 1 :]
        end = pos


def read_messages(data: bytes, source: str) -> Iterator[Message | Rejection]:
    """Yield the messages of an interchange, or a Rejection where one is broken.

    ``where`` reads ``<source> message <ref> (segment <n>)``, n counting from 1 over the file.
    Interchanges joined end to end in one file are each read with their own service string
    advice (UNA), or the default separators without one (:func:`_interchanges`).
    """
    text = text_of(data)
    counted, byte = 0, 0  # segments and bytes of the interchanges before, for numbering over the file
    for piece in _interchanges(text):
        counted = yield from _read_text(piece, source, counted, byte)
        byte += len(piece.encode())


#: Where another interchange may begin: a service string advice (UNA and its six characters)
#: before a header, or a header or message in the default separators (UNB or UNH without one).
_ANOTHER = re.compile(r"UNA.{6}\s*UN[BGH]|UN[BH]\+", re.DOTALL)


#: The service string advice of an interchange that gives none (ISO 9735: the default separators).
DEFAULT_ADVICE = "UNA:+.? '"


def _interchanges(text: str) -> list[str]:
    """``text`` cut where another interchange begins right after the end of a segment: at a
    service string advice (UNA), or, after a segment of an interchange that had other service
    characters, at a UNB in the default separators (an interchange holds one UNB), or at a UNH
    in them where its own data element separator is not ``+`` (its own messages cannot begin
    "UNH+") or its trailer (UNZ) came just before. An EDI review's two interchanges joined with
    ``cat``, the second with ``UNA|*,! ~``, lost the second whole: it was read with the first's
    separators, as one segment never terminated; another review's second interchange, without a
    UNA, was read with the first's release character ``!`` (``+`` kept, only the release
    differing), so its ``BL?+B`` became ``BL?`` and its bill of lading another trip's."""
    cuts = [0]
    head = text.lstrip()
    given = head.startswith("UNA") and len(head) >= 9
    advice = head[:9] if given else DEFAULT_ADVICE
    # where the current interchange's segments begin: after its UNA, whose last character is
    # the segment terminator too
    begun = len(text) - len(head) + (9 if given else 0)
    for m in _ANOTHER.finditer(text, len(text) - len(head) + 1):
        end = m.start()
        while end > begun and text[end - 1].isspace():  # the character before, blank space skipped
            end -= 1
        if end <= begun or text[end - 1] != advice[8]:
            continue
        if m.group().startswith("UNA"):
            cuts.append(m.start())
            advice = text[m.start():m.start() + 9]
            begun = m.start() + 9
        elif advice != DEFAULT_ADVICE and (advice[4] != "+" or m.group().startswith("UNB")
                                           or _ended_by_trailer(text, begun, end - 1, advice)):
            cuts.append(m.start())
            advice, begun = DEFAULT_ADVICE, m.start()
    return [text[a:b] for a, b in zip(cuts, [*cuts[1:], len(text)], strict=True)]


def _ended_by_trailer(text: str, start: int, terminator: int, advice: str) -> bool:
    """Whether the segment that the terminator at ``terminator`` ends (looked for after
    ``start``) is an interchange trailer, UNZ, in the service characters ``advice``."""
    begun = max(start, text.rfind(advice[8], start, terminator) + 1)
    return text[begun:terminator].lstrip().startswith("UNZ" + advice[4])


def _released_terminators(text: str) -> tuple[str, dict[int, Flag]]:
    """``text`` with each release character dropped that stands before a segment terminator
    ending a line that the next segment starts (``SEL+SEAL7001?'`` then ``CNT+16:1'`` on the
    next line), and a Flag for each, by the segment's number (from 1, as a parse counts them,
    the UNA one). Read as written, the escaped terminator joins the next segment to this one: a
    feeds review's CODECO seal read as "SEAL7001' CNT" and flagged the box as resealed."""
    head = text.lstrip()
    una = head[:9] if head.startswith("UNA") and len(head) >= 9 else ""
    release, separator, terminator = (una[6], una[4], una[8]) if una else ("?", "+", "'")
    found = re.compile(re.escape(release + terminator) + r"(?=[ \t]*\r?\n\s*[A-Z]{3}(?:"
                       + re.escape(separator) + "|" + re.escape(terminator) + "))")
    spots = [m.start() for m in found.finditer(text)]
    spots = {p for p in spots if (p - len(text[:p].rstrip(release))) % 2 == 0}  # the release itself not released
    if not spots:
        return text, {}
    flags: dict[int, Flag] = {}
    number, escaped, begun = 1, False, 0
    for i, ch in enumerate(text):
        if i in spots:
            seg = text[begun:i].strip()
            after = text[i + 2:].lstrip()[:3]
            flags[number] = Flag(seg[:3], "released-terminator", f"segment {number} ({seg[:3]}) ends its line with "
                                 f"a release character before the segment terminator ({release}{terminator}), which "
                                 f"would join the next segment ({after}) to it: read as the end of the segment")
        if (ch == terminator and not escaped) or i in spots:
            number, begun = number + (ch == terminator), i + 1
        escaped = ch == release and not escaped and i not in spots
    return "".join(ch for i, ch in enumerate(text) if i not in spots), flags


_LINE_BREAK = re.compile(r"\r\n|\r|\n")
#: The shortest width at which lines of equal length are taken for an interchange wrapped at a
#: fixed width (80 columns is usual), and the fewest such lines.
WRAP_MIN_WIDTH = 20
WRAP_MIN_LINES = 3


def unwrapped(text: str) -> str:
    """``text`` with each line break that falls inside a segment taken out: translators and
    mainframe links deliver interchanges wrapped at a fixed width (80 columns), breaking lines
    anywhere, and a break inside a value was read as part of it (an EDI review: a date
    "2024031\\n01830" unreadable, an IMO number "932\\n1483").

    Lines of one width (all but the last, at least :data:`WRAP_MIN_LINES` of
    :data:`WRAP_MIN_WIDTH` characters or more), most of them not ending a segment, are joined
    whole (records padded to one width, each a segment, are not wrapped: a regression review's
    stray line among them cost the message after it). Otherwise a break is taken out
    inside a segment begun on its line or before (the text since the last segment terminator
    begins with a tag: three capitals and the data element separator), where its line ends
    with a data element or component separator, or otherwise than with a segment terminator
    (not released) and the next line neither is blank nor begins a segment. A stray line
    ("-- part 2:") is then still read, and reported, as a line of its own, and the segment
    after it is not joined to it (a regression review lost a whole message so). Unchanged when
    a line break is one of the interchange's separators (UNA)."""
    if "\n" not in text and "\r" not in text:
        return text
    head = text.lstrip()
    una = head[:9] if head.startswith("UNA") and len(head) >= 9 else DEFAULT_ADVICE
    if any(c in "\r\n" for c in una[3:9]):
        return text
    component, separator, release, terminator = una[3], una[4], una[6], una[8]
    lines = _LINE_BREAK.split(text)
    width = len(lines[0])
    if (len(lines) >= WRAP_MIN_LINES and width >= WRAP_MIN_WIDTH and len(lines[-1]) <= width
            and all(len(line) == width for line in lines[:-1])
            and sum(_ends_segment(line, terminator, release) for line in lines[:-1]) * 2 < len(lines) - 1):
        return "".join(lines)
    begins = re.compile(r"[ \t]*(?:\r|\n|$|[A-Z]{3}" + re.escape(separator) + ")")
    tagged = re.compile(r"[A-Z][A-Z0-9]{2}" + re.escape(separator))
    kept, last = [], 0
    for m in _LINE_BREAK.finditer(text):
        end = m.start()  # after the last character of the line that is not blank space
        while end > 0 and text[end - 1] in " \t":
            end -= 1
        if end == 0 or text[end - 1] in "\r\n":
            continue  # a blank line
        releases = end - 1
        while releases > 0 and text[releases - 1] == release:
            releases -= 1
        released = (end - 1 - releases) % 2 == 1
        mark = None if released else text[end - 1]
        if mark == terminator:
            continue  # the segment ended
        if mark not in (separator, component) and begins.match(text, m.end()):
            continue  # a line of its own before a segment
        start = _segment_start(text, end, terminator, release)  # its tag may have been cut by an earlier break
        begun = text[start:min(end, start + 32)].replace("\r", "").replace("\n", "").lstrip()
        if len(begun) < 4:  # the tag itself cut by this break
            begun += text[m.end():m.end() + 4 - len(begun)]
        if not tagged.match(begun):
            continue  # not inside a segment: a stray line
        kept.append(text[last:m.start()])
        last = m.end()
    if not kept:
        return text
    return "".join(kept) + text[last:]


def _ends_segment(line: str, terminator: str, release: str) -> bool:
    """Whether ``line`` (blank space after it aside) ends with a segment terminator that is not
    released."""
    body = line.rstrip(" \t")
    return body.endswith(terminator) and (len(body) - 1 - len(body[:-1].rstrip(release))) % 2 == 0


def _segment_start(text: str, end: int, terminator: str, release: str) -> int:
    """Where the segment holding ``text[end - 1]`` begins: after the last segment terminator
    before ``end`` that is not released (0 when none)."""
    at = end
    while (at := text.rfind(terminator, 0, at)) >= 0:
        releases = at
        while releases > 0 and text[releases - 1] == release:
            releases -= 1
        if (at - releases) % 2 == 0:
            return at + 1
    return 0


def _read_text(text: str, source: str, before: int, byte: int) -> Generator[Message | Rejection, None, int]:
    """:func:`read_messages` of one interchange's text, its segments numbered after ``before``
    others of the file and its bytes after ``byte``; returns the count of segments read."""
    text, repaired = _released_terminators(text)
    complete, tail = split_at_last_segment(text)
    if not complete.strip() and tail.strip().startswith("UNA") and len(tail.strip()) <= 9:
        # an ingest review's file of a UNA alone read as "ends inside a segment"
        yield Rejection(source, "UNA", "only a service string advice (UNA): no interchange (UNB) or message (UNH) "
                                       "follows it", tail[:RAW_MAX])
        return before
    if tail.strip():
        yield Rejection(f"{source} (after byte {byte + len(complete.encode())})", "", "the file ends inside a segment "
                        f"(truncated?): {tail.strip()[:60]!r} is not terminated", tail[:RAW_MAX])
    segs: list[Segment | Unreadable]
    complete = unwrapped(complete)
    try:
        segs = list(segments(complete))
    except _TOKEN_ERRORS as exc:
        segs = _one_by_one(complete)
        if not any(isinstance(seg, Segment) for seg in segs):
            yield Rejection(f"{source}", "", f"not a readable EDIFACT interchange: {exc}")
            return before + len(segs)
    current: list[Segment] = []
    start = 0
    broken = ""  # why the open message cannot be read (one of its segments could not)
    envelope_flags, envelope_problems = _check_envelopes(segs, source, before + 1)  # type: ignore[arg-type]
    yield from envelope_problems
    for n, seg in enumerate(segs, start=before + 1):
        tag = seg.tag.strip()
        if isinstance(seg, Unreadable):
            why = f"segment {n} could not be read ({seg.why}): {seg.text[:100]!r}"
            if current:
                broken = broken or why
                current.append(seg)  # type: ignore[arg-type]  # kept as received, for the quarantine
            else:
                yield Rejection(f"{source} (segment {n})", "", f"{why}, outside any message")
        elif tag == "UNH":
            if current:
                yield from _unterminated(current, start, source, broken)
            current, start, broken = [seg], n, ""
        elif tag == "UNT":
            if not current:
                yield Rejection(f"{source} (segment {n})", "UNT", "UNT without a UNH before it")
                continue
            current.append(seg)
            if broken:
                ref, kind, _, _, where = _head(current, start, source)
                yield Rejection(where, "", f"{kind} message {ref}: {broken}; nothing of it is kept",
                                as_received(current))
            else:
                released = tuple(f for k, f in repaired.items() if start <= k + before <= n)
                yield _close(current, start, source, envelope_flags.get(start, ()) + released)
            current = []
        elif current:
            current.append(seg)
        elif tag not in ("UNA", "UNB", "UNZ", "UNG", "UNE"):
            yield Rejection(f"{source} (segment {n})", tag, f"segment {tag} outside any UNH..UNT message")
    if current:
        yield from _unterminated(current, start, source, broken, _begun(tail))
    return before + len(segs)


def _begun(tail: str) -> Segment | None:
    """The segment a file broke off inside (``tail``: its unterminated text) as far as it was
    written: its tag and first data element, read with the default separators (+ and :); None
    when not even its tag was written."""
    text = tail.strip()
    if len(text) < 3 or not text[:3].isalnum():
        return None
    first = re.split(r"[+:]", text[4:], maxsplit=1)[0] if text[3:4] == "+" else ""
    with warnings.catch_warnings():  # pydifact warns of a segment without data elements
        warnings.simplefilter("ignore")
        return Segment(text[:3], first) if first else Segment(text[:3])


def _check_envelopes(segs: list[Segment], source: str,
                     first: int = 1) -> tuple[dict[int, tuple[Flag, ...]], list[Rejection]]:
    """Each UNB..UNZ interchange against its trailer, in one pass. Returns the flags of the
    messages of flawed interchanges, by the segment number (from 1) of their UNH, and a
    Rejection per UNZ whose interchange control count (ISO 9735 / UN/EDIFACT syntax 0036:
    messages, or functional groups when there are UNG groups) is not what the file holds (attack
    review: a COARRI whose UNZ counted 7 messages held 1, and read as complete). ``first``: the
    number of the first of ``segs`` in the file.

    Flagged, their messages kept: an interchange whose UNB has no UNZ (the file may have been
    cut off after a complete message; real senders also leave UNZ out), and one whose UNZ
    repeats another control reference (0020) than its UNB's (a header and trailer of two
    interchanges spliced together; two real samples differ by a typo or a misplaced element)."""
    flags: dict[int, tuple[Flag, ...]] = {}
    rejections: list[Rejection] = []
    heads: list[int] | None = None  # the UNH segment numbers of the open interchange (None: none open)
    group: list[int] | None = None  # those of the open functional group (UNG..UNE)
    groups, reference, group_reference = 0, "", ""
    for n, seg in enumerate(segs, start=first):
        tag = seg.tag.strip()
        if tag == "UNB":
            flags.update(dict.fromkeys(heads or (), (_NO_TRAILER,)))
            heads, groups, reference = [], 0, component(seg, 4)
        elif tag == "UNH" and heads is not None:
            heads.append(n)
            if group is not None:
                group.append(n)
        elif tag == "UNG":
            groups += 1
            _add_flag(flags, group or (), _NO_GROUP_TRAILER)
            group, group_reference = [], component(seg, 4)
        elif tag == "UNE" and group is not None:
            if (said := component(seg, 0)) != str(len(group)):
                rejections.append(Rejection(
                    f"{source} (segment {n})", "UNE", f"UNE says the functional group holds {said or 'nothing'} "
                    f"messages, the file holds {len(group)}: messages may be missing", _raw(seg)))
            if (closes := component(seg, 1)) != group_reference:
                _add_flag(flags, group, _other_reference(group_reference, closes, "UNE", "functional group", "UNG"))
            group = None
        elif tag == "UNZ" and heads is not None:
            _add_flag(flags, group or (), _NO_GROUP_TRAILER)
            group = None
            counted, said = groups or len(heads), component(seg, 0)
            if said != str(counted):
                rejections.append(Rejection(
                    f"{source} (segment {n})", "UNZ", f"UNZ says the interchange holds {said or 'nothing'} "
                    f"{'functional groups' if groups else 'messages'}, the file holds {counted}: messages may be "
                    "missing", _raw(seg)))
            if (closes := component(seg, 1)) != reference:
                _add_flag(flags, heads, _other_reference(reference, closes))
            heads = None
    _add_flag(flags, group or (), _NO_GROUP_TRAILER)
    _add_flag(flags, heads or (), _NO_TRAILER)
    return flags, rejections


def _add_flag(flags: dict[int, tuple[Flag, ...]], heads: Iterable[int], flag: Flag) -> None:
    """Add ``flag`` to the flags of the messages whose UNH is at each of ``heads``."""
    for n in heads:
        flags[n] = (*flags.get(n, ()), flag)


def _raw(seg: Segment) -> str:
    """A segment as sent (default separators), at most 2,000 characters."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Serializer().serialize([seg], with_una_header=False)[:2000]


def _other_reference(opened: str, closed: str, trailer: str = "UNZ", what: str = "interchange",
                     header: str = "UNB") -> Flag:
    """The flag of a trailer (UNZ, UNE) closing another control reference than its header's."""
    code = "interchange-reference-mismatch" if trailer == "UNZ" else "group-reference-mismatch"
    return Flag(trailer, code, f"the {trailer} trailer closes {what} {closed or '(no reference)'!r}, the {header} "
                f"header opened {opened or '(no reference)'!r}: header and trailer may come from two {what}s, and "
                "messages between them may be missing")


#: Message types whose complete groups are kept when the message breaks off, and what a group
#: is (read by :mod:`scheldt.ingest.edifact.messages` one group at a time).
KEPT_AFTER_BREAK = {"BAPLIE": "stowage cells", "MOVINS": "stowage cells", "COARRI": "container groups",
                    "COPRAR": "container groups", "CODECO": "container groups",
                    "CUSCAR": "consignments (CNI groups)"}
_NO_GROUP_TRAILER = Flag("UNE", "no-group-trailer", "the functional group has no UNE trailer: Scheldt cannot tell "
                         "whether messages after this one were cut off")
_NO_TRAILER = Flag("UNZ", "no-interchange-trailer", "the interchange has no UNZ trailer: Scheldt cannot tell whether "
                   "messages after this one were cut off")


def _head(current: list[Segment], start: int, source: str) -> tuple[str, str, str, str, str]:
    unh = current[0]
    ref = component(unh, 0)
    kind = component(unh, 1, 0)
    version = f"{component(unh, 1, 1)}:{component(unh, 1, 2)}"
    association = component(unh, 1, 4) or component(unh, 2)
    return ref, kind, version, association, f"{source} message {ref} (segment {start})"


def _unterminated(current: list[Segment], start: int, source: str, broken: str = "",
                  cut_in: Segment | None = None) -> Iterator[Message | Rejection]:
    """A message without its UNT: a Rejection keeping its segments as received (to correct and
    re-send), then the message marked ``truncated`` so a reader can keep what came before the
    break (see :attr:`Message.truncated`, :attr:`Message.cut_in`); nothing more when one of its
    segments could not be read (``broken`` says which)."""
    ref, kind, version, association, where = _head(current, start, source)
    if broken:
        yield Rejection(where, "", f"{kind} message {ref} ends without UNT, and {broken}; nothing of it is kept",
                        as_received(current))
        return
    kept = KEPT_AFTER_BREAK.get(kind)
    why = (f"{kind} message {ref} ends without UNT after {len(current)} segments (file truncated, or the next UNH "
           "came too early); " + (f"{kept} that ended before the break are kept, flagged" if kept else
                                  "nothing of it is kept"))
    yield Rejection(where, "UNT", why, as_received(current))
    flag = Flag("UNT", "truncated-message", f"read from a {kind} message that breaks off after "
                f"{len(current)} segments without its UNT")
    yield Message(ref, kind, version, association, current, where, (flag,), truncated=True, cut_in=cut_in)


def _close(current: list[Segment], start: int, source: str, extra: tuple[Flag, ...] = ()) -> Message | Rejection:
    ref, kind, version, association, where = _head(current, start, source)
    unt = current[-1]
    count, unt_ref = component(unt, 0), component(unt, 1)
    flags = []
    if not (count.isascii() and count.isdigit()) or len(count) > 6 or int(count) != len(current):
        # the text names no message reference (the record's source does): the same message re-sent
        # under another reference holds the same facts (a review saw each re-send add a version)
        flags.append(Flag("UNT", "segment-count-mismatch", f"UNT says {count or 'nothing'} segments, the "
                          f"{kind} message has {len(current)} (UNH to UNT)"))
    if unt_ref != ref:
        flags.append(Flag("UNT", "message-reference-mismatch",
                          f"{kind} message {ref}: UNT refers to message {unt_ref!r}"))
    return Message(ref, kind, version, association, current, where, (*flags, *extra))
