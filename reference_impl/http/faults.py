"""Named faults of the HTTP streaming reference server and client: one deviation each."""

from reference_impl.common.faults import Fault

_FAULTS = [
    Fault(
        "http_icy_wrong_interval",
        ("HTTP-ICY-FRAMING",),
        "ICY metadata blocks come 100 bytes before icy-metaint says",
    ),
    Fault("http_sse_wrong_type", ("HTTP-SSE-CONTENT-TYPE",), "the event stream is text/plain"),
    Fault(
        "http_sse_no_blank_line", ("HTTP-SSE-EVENT-END",), "events are not ended by a blank line"
    ),
    Fault("http_sse_bad_retry", ("HTTP-SSE-RETRY-DIGITS",), "retry is sent as `1.5s`"),
    Fault("http_sse_no_ids", ("HTTP-SSE-ID",), "events carry no id"),
    Fault(
        "http_sse_ignore_last_event_id",
        ("HTTP-SSE-RESUME", "HTTP-INTEROP-STREAM"),
        "a reconnecting client gets the stream from now on, not after its Last-Event-ID",
    ),
    Fault("http_sse_cacheable", ("HTTP-SSE-NO-CACHE",), "the event stream may be cached"),
    Fault(
        "http_buffer_events",
        ("HTTP-STREAM-LATENCY", "HTTP-STREAM-CHUNK-PER-EVENT"),
        "events are held and written in batches once a second, several to a chunk",
    ),
    Fault(
        "http_no_last_chunk", ("HTTP-CHUNKED-LAST-CHUNK",), "a finite stream ends without 0\\r\\n"
    ),
    Fault(
        "http_chunked_to_http10",
        ("HTTP-HTTP10-NO-CHUNKED",),
        "HTTP/1.0 requests get a chunked response",
    ),
    Fault("http_bad_chunk_size", ("HTTP-MESSAGE-FRAMING",), "a chunk size line is not hex"),
    Fault("http_head_with_body", ("HTTP-HEAD-NO-BODY",), "HEAD is answered with a body"),
    Fault("http_no_host_200", ("HTTP-HOST-400",), "an HTTP/1.1 request without Host gets 200"),
    Fault("http_longpoll_no_hold", ("HTTP-LONGPOLL-HOLD",), "a long poll is answered at once"),
    Fault(
        "http_longpoll_hold_forever",
        ("HTTP-LONGPOLL-TIMEOUT",),
        "a long poll is held past the timeout the client asked for",
    ),
    Fault("http_poll_hold", ("HTTP-POLL-IMMEDIATE",), "a short poll is held like a long poll"),
    Fault(
        "http_multipart_no_boundary",
        ("HTTP-MULTIPART-BOUNDARY-PARAM",),
        "multipart/x-mixed-replace is sent without a boundary parameter",
    ),
    Fault(
        "http_multipart_wrong_delimiter",
        ("HTTP-MULTIPART-BOUNDARY",),
        "parts are delimited by a boundary other than the announced one",
    ),
    Fault(
        "http_multipart_untyped_part",
        ("HTTP-MULTIPART-PART-TYPE",),
        "parts carry no Content-Type",
    ),
    Fault(
        "http_client_no_last_event_id",
        ("HTTP-SSE-CLIENT-LAST-EVENT-ID",),
        "the client reconnects without Last-Event-ID",
    ),
    Fault(
        "http_client_ignore_retry",
        ("HTTP-SSE-CLIENT-RETRY",),
        "the client reconnects at once, ignoring the retry time",
    ),
    Fault(
        "http_client_ignore_204",
        ("HTTP-SSE-CLIENT-204-STOP",),
        "the client reconnects after a 204 No Content",
    ),
    Fault(
        "http_http10_empty_body",
        ("HTTP-HTTP10-CLOSE-DELIMITED",),
        "an HTTP/1.0 client gets the header section and then the close, no body",
    ),
    Fault("http_sse_not_utf8", ("HTTP-SSE-UTF8",), "event data is sent in Latin-1"),
    Fault(
        "http_client_no_reconnect",
        ("HTTP-SSE-CLIENT-RECONNECT",),
        "the client gives up when the stream breaks",
    ),
    Fault(
        "http_length_and_chunked",
        ("HTTP-CL-AND-TE",),
        "a chunked stream also carries Content-Length",
    ),
    Fault("http_bad_status_line", ("HTTP-STATUS-LINE",), "the status code has four digits"),
    Fault(
        "http_multipart_all_at_once",
        ("HTTP-MULTIPART-INCREMENTAL",),
        "every frame is held until the last is made, then all are written together",
    ),
    Fault(
        "http_stream_one_event_each",
        ("HTTP-STREAM-INCREMENTAL",),
        "a stream ends after each event; the client must ask again",
    ),
    Fault(
        "http_multipart_glued",
        ("HTTP-MULTIPART-DELIMITER",),
        "a delimiter follows the frame's last byte with no CRLF",
    ),
    Fault(
        "http_client_chunk_extension_fatal",
        ("HTTP-CHUNKED-EXTENSIONS-IGNORED",),
        "the client gives up on a chunk with an extension",
    ),
    Fault(
        "http_client_trailer_fatal",
        ("HTTP-CHUNKED-TRAILERS",),
        "the client takes a trailer section for a broken stream and drops its events",
    ),
    Fault(
        "http_client_bad_request_line",
        ("HTTP-CLIENT-REQUEST-LINE",),
        "the client puts two spaces after the method",
    ),
    Fault("http_sse_no_heartbeat", ("HTTP-SSE-HEARTBEAT",), "an idle event stream sends nothing"),
    Fault("http_sse_nul_id", ("HTTP-SSE-ID-NO-NUL",), "event ids contain U+0000"),
    Fault(
        "http_longpoll_drop_missed",
        ("HTTP-LONGPOLL-NO-LOSS",),
        "a long poll returns only the newest event, not all since the client's last",
    ),
    Fault(
        "http_multipart_wrong_length",
        ("HTTP-MULTIPART-PART-LENGTH",),
        "each part's Content-Length is one more than its body",
    ),
    Fault("http_multipart_no_close", ("HTTP-MULTIPART-CLOSE",), "no close delimiter at the end"),
    Fault(
        "http_multipart_bad_boundary",
        ("HTTP-MULTIPART-BOUNDARY-SYNTAX",),
        "the boundary is 75 characters long",
    ),
    Fault(
        "http_client_no_cache_control",
        ("HTTP-SSE-CLIENT-NO-CACHE",),
        "the client's event stream request asks for no uncached stream",
    ),
    Fault("http_client_keep_bom", ("HTTP-SSE-PARSE-BOM",), "the client keeps a leading BOM"),
    Fault(
        "http_client_cr_not_line_end",
        ("HTTP-SSE-PARSE-LINE-ENDS",),
        "the client ends lines at LF only",
    ),
    Fault("http_client_data_unjoined", ("HTTP-SSE-PARSE-DATA",), "data lines are run together"),
    Fault("http_client_type_ignored", ("HTTP-SSE-PARSE-EVENT-TYPE",), "every event is `message`"),
    Fault("http_client_nul_id_kept", ("HTTP-SSE-PARSE-ID-NUL",), "an id with NULL is kept"),
    Fault(
        "http_client_unknown_as_data",
        ("HTTP-SSE-PARSE-UNKNOWN-FIELD",),
        "unknown fields are taken as data",
    ),
    Fault(
        "http_client_empty_dispatched",
        ("HTTP-SSE-PARSE-EMPTY-DATA",),
        "an event with no data is dispatched, empty",
    ),
    Fault(
        "http_client_incomplete_dispatched",
        ("HTTP-SSE-PARSE-INCOMPLETE",),
        "an event cut off by the end of the stream is dispatched",
    ),
    Fault("http_client_no_host", ("HTTP-HOST",), "the client's requests carry no Host"),
    Fault("http_client_no_accept", ("HTTP-SSE-CLIENT-ACCEPT",), "the client sends no Accept"),
]

FAULTS: dict[str, Fault] = {f.name: f for f in _FAULTS}
