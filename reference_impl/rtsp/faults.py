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
    Fault("rtp_bad_version", ("RTSP-RTP-VERSION",), "RTP packets carry version 1"),
    Fault(
        "rtp_seq_jump_after_pause",
        ("RTSP-RTP-SEQ-CONTINUOUS",),
        "after PAUSE and PLAY the RTP sequence number jumps by 1000",
    ),
    Fault("no_resume_after_pause", ("RTSP-PAUSE-RESUME",), "PLAY after PAUSE gets 503"),
    Fault("no_media_after_play", ("RTSP-PLAY-MEDIA",), "PLAY is answered 200 but no RTP follows"),
    Fault("rtp_bad_padding", ("RTSP-RTP-LENGTH",), "RTP packets claim more padding than they hold"),
    Fault("rtp_timestamp_backwards", ("RTSP-RTP-TIMESTAMP-MONOTONIC",), "RTP timestamps go back"),
    Fault("rtp_ssrc_changes", ("RTSP-RTP-SSRC-STABLE",), "every RTP packet has a new SSRC"),
    Fault("no_rtcp", ("RTSP-RTCP-SR-ACTIVE-SENDER",), "no RTCP is sent while RTP flows"),
    Fault(
        "rtcp_sdes_first",
        ("RTSP-RTCP-COMPOUND-FIRST",),
        "compound RTCP starts with SDES, the SR after it",
    ),
    Fault("rtcp_no_cname", ("RTSP-RTCP-CNAME",), "the SDES chunk carries no CNAME"),
    Fault("rtcp_wrong_ssrc", ("RTSP-RTCP-SR-SSRC",), "the SR names an SSRC the RTP does not use"),
    Fault("sdp_without_version", ("RTSP-SDP-VERSION",), "the DESCRIBE body lacks its v=0 line"),
    Fault("sdp_without_origin", ("RTSP-SDP-REQUIRED",), "the DESCRIBE body lacks its o= line"),
    Fault("sdp_bad_line", ("RTSP-SDP-SYNTAX",), "the DESCRIBE body has a line that is not x=value"),
    Fault("sdp_out_of_order", ("RTSP-SDP-ORDER",), "the DESCRIBE body puts t= before s="),
    Fault("sdp_bad_media", ("RTSP-SDP-MEDIA",), "the m= line has no port, protocol or format"),
    Fault("sdp_bare_lf", ("RTSP-SDP-CRLF",), "the DESCRIBE body's lines end in LF only"),
    Fault("short_session_id", ("RTSP-SESSION-ID-LENGTH",), "session identifiers are 4 characters"),
    Fault("unknown_session_200", ("RTSP-SESSION-UNKNOWN-454",), "an unknown Session gets 200"),
    Fault(
        "ignore_state",
        ("RTSP-STATE-455", "RTSP-STATE-TABLE"),
        "requests the state does not allow are answered 200 and change nothing",
    ),
    Fault("client_omit_cseq", ("RTSP-CSEQ-PRESENT",), "the client's requests carry no CSeq"),
    Fault("client_repeat_cseq", ("RTSP-CSEQ-INCREASE",), "the client reuses CSeq 1"),
    Fault(
        "client_wrong_session", ("RTSP-SESSION-ECHO",), "the client's PLAY names another session"
    ),
    Fault(
        "client_session_timeout_param",
        ("RTSP-SESSION-TIMEOUT-RESPONSE-ONLY",),
        "the client's PLAY carries Session: id;timeout=60",
    ),
    Fault(
        "client_setup_without_transport",
        ("RTSP-SETUP-TRANSPORT-PRESENT",),
        "the client's SETUP has no Transport header",
    ),
    Fault(
        "client_bad_transport", ("RTSP-TRANSPORT-SYNTAX",), "the client's Transport is free text"
    ),
    Fault(
        "client_relative_uri", ("RTSP-REQUEST-URI-ABSOLUTE",), "the client's PLAY names a bare path"
    ),
    Fault("client_no_user_agent", ("RTSP-CLIENT-USER-AGENT",), "the client sends no User-Agent"),
    Fault("client_no_teardown", ("RTSP-CLIENT-TEARDOWN",), "the client closes without TEARDOWN"),
]

FAULTS = {fault.name: fault for fault in _FAULTS}
