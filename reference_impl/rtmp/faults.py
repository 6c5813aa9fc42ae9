"""Named faults of the RTMP reference server and client: one deviation each."""

from reference_impl.common.faults import Fault

_SERVER = [
    Fault("hs_bad_version", ("RTMP-HS-VERSION",), "S0 (C0) carries version 6"),
    Fault("hs_s2_not_echo", ("RTMP-HS-ECHO",), "the plain S2 does not echo C1's random bytes"),
    Fault("hs_s1_junk_zero", ("RTMP-HS-ZERO",), "a plain S1 has non-zero bytes 4 to 7"),
    Fault("hs_bad_s1_digest", ("RTMP-HS-DIGEST",), "the S1 digest does not verify"),
    Fault(
        "hs_scheme0_only",
        ("RTMP-HS-DIGEST-SCHEME-1",),
        "a C1 digest at offset base 772 is not looked for; such clients get the plain handshake",
    ),
    Fault("hs_bad_s2_digest", ("RTMP-HS-RESPONSE-DIGEST",), "the S2 digest is not derived"),
    Fault("send_before_c2", ("RTMP-HS-WAIT-C2",), "Window Ack Size goes out right after S2"),
    Fault("first_chunk_fmt1", ("RTMP-CHUNK-FIRST-FMT0",), "a chunk stream starts with type 1"),
    Fault(
        "exts_no_repeat",
        ("RTMP-CHUNK-EXTTS-REPEAT",),
        "type 3 chunks do not repeat the extended timestamp (old librtmp)",
    ),
    Fault(
        "msid_big_endian",
        ("RTMP-CHUNK-MSID-LE", "RTMP-CMD-STATUS-STREAM"),
        "message stream IDs are written big-endian",
    ),
    Fault(
        "ignore_peer_chunk_size",
        ("RTMP-CHUNK-SIZE-HONOURED",),
        "the peer's Set Chunk Size is not applied",
    ),
    Fault("bad_chunk_size", ("RTMP-CHUNK-SIZE-RANGE",), "Set Chunk Size has its top bit set"),
    Fault(
        "ignore_abort",
        ("RTMP-CHUNK-ABORT",),
        "an Abort Message leaves the partial message in place",
    ),
    Fault(
        "abandon_message",
        ("RTMP-CHUNK-LENGTH-CHANGE",),
        "a message is started on chunk stream 3 and dropped for the connect _result",
    ),
    Fault("hs_bad_echo_time", ("RTMP-HS-ECHO-TIME",), "the plain S2 carries another time"),
    Fault(
        "no_interleave",
        ("RTMP-CHUNK-INTERLEAVE",),
        "a message completed while another chunk stream has a partial one is dropped",
    ),
    Fault(
        "result_on_csid2",
        ("RTMP-CHUNK-CSID-RESERVED",),
        "the connect _result goes on chunk stream 2",
    ),
    Fault(
        "close_on_unknown_type",
        ("RTMP-CTRL-UNKNOWN-TYPE",),
        "a message of an unknown type closes the connection",
    ),
    Fault("uc_wrong_channel", ("RTMP-UC-CHANNEL",), "PingResponse goes on chunk stream 3"),
    Fault("control_wrong_channel", ("RTMP-CTRL-CHANNEL",), "Window Ack Size on chunk stream 3"),
    Fault("control_bad_length", ("RTMP-CTRL-LENGTH",), "Window Ack Size with an 8-byte payload"),
    Fault("no_ack", ("RTMP-CTRL-WINDOW-ACK",), "no Acknowledgement is ever sent"),
    Fault(
        "ack_wrong_count",
        ("RTMP-CTRL-ACK-SEQUENCE",),
        "Acknowledgements claim a million bytes more than arrived",
    ),
    Fault("peer_bw_bad_limit", ("RTMP-CTRL-PEER-BW-LIMIT",), "Set Peer Bandwidth limit type 5"),
    Fault(
        "no_window_ack",
        ("RTMP-CTRL-CONNECT-SEQUENCE",),
        "connect is answered without Window Ack Size and Set Peer Bandwidth",
    ),
    Fault("no_stream_begin", ("RTMP-UC-STREAM-BEGIN",), "play gets no StreamBegin"),
    Fault("no_ping_response", ("RTMP-UC-PING",), "a PingRequest is not answered"),
    Fault("uc_bad_length", ("RTMP-UC-EVENT-LENGTH",), "StreamBegin carries 6 data bytes"),
    Fault("bad_amf_result", ("RTMP-AMF0-VALID",), "the connect _result lacks its object end"),
    Fault(
        "result_tid_string",
        ("RTMP-AMF0-COMMAND-SHAPE",),
        "the connect _result's transaction ID is a string",
    ),
    Fault(
        "connect_wrong_code",
        ("RTMP-CMD-CONNECT-RESULT",),
        "connect _result says NetConnection.Connect.Rejected",
    ),
    Fault(
        "wrong_transaction_id",
        ("RTMP-CMD-TRANSACTION-ID",),
        "createStream _result carries another transaction ID",
    ),
    Fault(
        "createstream_no_id",
        ("RTMP-CMD-CREATESTREAM-RESULT",),
        "createStream _result carries null, not a stream ID",
    ),
    Fault("no_play_start", ("RTMP-CMD-PLAY-START",), "play gets no NetStream.Play.Start"),
    Fault("no_publish_start", ("RTMP-CMD-PUBLISH-START",), "publish gets no Publish.Start"),
    Fault("onstatus_no_level", ("RTMP-CMD-STATUS-FIELDS",), "onStatus lacks its level"),
    Fault("onstatus_wrong_stream", ("RTMP-CMD-STATUS-STREAM",), "onStatus goes on stream 0"),
    Fault("no_play_reset", ("RTMP-CMD-PLAY-RESET",), "play gets no NetStream.Play.Reset"),
    Fault(
        "allow_duplicate_publish",
        ("RTMP-CMD-PUBLISH-BADNAME",),
        "a second publisher of a name is accepted",
    ),
    Fault("close_on_unknown", ("RTMP-CMD-UNKNOWN",), "an unknown command closes the connection"),
    Fault(
        "keep_deleted_stream",
        ("RTMP-CMD-DELETESTREAM",),
        "deleteStream leaves the name published",
    ),
    Fault("close_on_fcpublish", ("RTMP-CMD-FCPUBLISH",), "FCPublish closes the connection"),
    Fault(
        "wrong_object_encoding",
        ("RTMP-CMD-OBJECT-ENCODING",),
        "connect _result states objectEncoding 3 to an AMF0 client",
    ),
    Fault(
        "no_unpublish_notify",
        ("RTMP-CMD-UNPUBLISH-NOTIFY", "RTMP-UC-STREAM-EOF"),
        "players are not told that the publisher stopped",
    ),
    Fault(
        "fanout_drop",
        ("RTMP-MEDIA-FANOUT", "RTMP-INTEROP-PLAY"),
        "media messages 30 to 104 of a stream (about a second) are not passed on to players",
    ),
    Fault(
        "no_codec_headers",
        ("RTMP-MEDIA-CODEC-HEADERS",),
        "a late player gets no sequence headers",
    ),
    Fault("drop_metadata", ("RTMP-MEDIA-METADATA",), "onMetaData is not passed on"),
    Fault(
        "timestamps_backwards",
        ("RTMP-MEDIA-TIMESTAMP-ORDER",),
        "every third media message to a player is stamped 100 ms early",
    ),
    Fault("media_wrong_stream", ("RTMP-MEDIA-STREAM-ID",), "media goes to players on stream 0"),
]

_CLIENT = [
    Fault("client_hs_bad_version", ("RTMP-HS-VERSION",), "the client's C0 carries version 6"),
    Fault("hs_c2_not_echo", ("RTMP-HS-ECHO",), "the plain C2 does not echo S1's random bytes"),
    Fault("hs_bad_c1_digest", ("RTMP-HS-DIGEST",), "the C1 digest does not verify"),
    Fault("hs_bad_c2_digest", ("RTMP-HS-RESPONSE-DIGEST",), "the C2 digest is not derived"),
    Fault("client_no_wait_s2", ("RTMP-HS-WAIT-S2",), "connect goes out before S2 arrived"),
    Fault(
        "client_ignore_chunk_size",
        ("RTMP-CHUNK-SIZE-HONOURED",),
        "the server's Set Chunk Size is not applied",
    ),
    Fault("client_no_ack", ("RTMP-CTRL-WINDOW-ACK",), "the client never acknowledges"),
    Fault("client_no_ping_response", ("RTMP-UC-PING",), "the client does not answer PingRequest"),
    Fault("client_connect_tid_2", ("RTMP-CLIENT-CONNECT-FIRST",), "connect has transaction ID 2"),
    Fault("client_no_tcurl", ("RTMP-CLIENT-CONNECT-OBJECT",), "connect has no tcUrl"),
    Fault(
        "client_wrong_stream",
        ("RTMP-CLIENT-STREAM-ID",),
        "play goes on a stream ID one above the one createStream returned",
    ),
    Fault("client_play_tid_1", ("RTMP-CLIENT-STREAM-TID",), "play has transaction ID 1"),
    Fault("client_play_object", ("RTMP-CLIENT-PLAY-ARGS",), "play's command object is {}"),
    Fault("client_publish_no_type", ("RTMP-CLIENT-PUBLISH-ARGS",), "publish has no type"),
    Fault(
        "client_no_sequence_header",
        ("RTMP-CLIENT-MEDIA-FLV",),
        "published video starts with a coded frame, not the AVC sequence header",
    ),
    Fault("client_bad_amf", ("RTMP-AMF0-VALID",), "createStream is cut before its end"),
    Fault(
        "client_control_wrong_channel",
        ("RTMP-CTRL-CHANNEL",),
        "the client's Set Chunk Size goes on chunk stream 3",
    ),
    Fault("client_hs_bad_echo_time", ("RTMP-HS-ECHO-TIME",), "C2 carries another time"),
    Fault("client_no_flashver", ("RTMP-CLIENT-FLASHVER",), "connect states no flashVer"),
    Fault(
        "client_no_deletestream",
        ("RTMP-CLIENT-DELETESTREAM",),
        "the client closes without deleteStream",
    ),
    Fault("client_no_metadata", ("RTMP-CLIENT-METADATA",), "the publisher sends no onMetaData"),
    Fault(
        "client_no_window_reply",
        ("RTMP-CTRL-PEER-BW-RESPONSE",),
        "Set Peer Bandwidth gets no Window Ack Size in reply",
    ),
    Fault("client_first_chunk_fmt1", ("RTMP-CHUNK-FIRST-FMT0",), "the first command is type 1"),
]

FAULTS: dict[str, Fault] = {f.name: f for f in _SERVER + _CLIENT}
