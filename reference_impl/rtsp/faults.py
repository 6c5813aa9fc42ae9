"""Named faults of the RTSP reference server and client: one deliberate deviation each."""

from reference_impl.common.faults import Fault

_FAULTS = [
    Fault("omit_cseq", ("RTSP-CSEQ-PRESENT",), "responses carry no CSeq"),
    Fault("wrong_cseq", ("RTSP-CSEQ-ECHO",), "responses carry the request's CSeq plus one"),
    Fault("bare_lf", ("RTSP-MSG-CRLF",), "response lines end in LF only"),
    Fault("malformed_status_line", ("RTSP-STATUS-LINE",), "status lines lack the numeric code"),
    Fault("wrong_version", ("RTSP-RESPONSE-VERSION",), "responses say RTSP/1.1"),
    Fault("no_public", ("RTSP-OPTIONS-PUBLIC",), "OPTIONS is answered without Public"),
    Fault("public_without_setup", ("RTSP-PUBLIC-MINIMAL",), "Public omits SETUP"),
    Fault("unknown_method_400", ("RTSP-METHOD-UNKNOWN-501",), "an unknown method gets 400"),
    Fault("accept_any_version", ("RTSP-VERSION-505",), "an RTSP/2.0 request gets 200"),
    Fault("accept_malformed", ("RTSP-BAD-REQUEST-400",), "a malformed request line gets 200"),
    Fault("setup_always_461", ("RTSP-INTEROP-PLAY",), "every SETUP is refused with 461"),
    Fault("client_omit_cseq", ("RTSP-CSEQ-PRESENT",), "the client's requests carry no CSeq"),
    Fault("client_repeat_cseq", ("RTSP-CSEQ-INCREASE",), "the client reuses CSeq 1"),
    Fault("client_no_teardown", ("RTSP-CLIENT-TEARDOWN",), "the client closes without TEARDOWN"),
]

FAULTS = {fault.name: fault for fault in _FAULTS}
