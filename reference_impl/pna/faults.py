"""Named faults of the PNA reference server and client: one deviation each."""

from reference_impl.common.faults import Fault

_SERVER = [
    Fault("pna_no_pna_chunk", ("PNA-RESP-PNA-CHUNK",), "the response starts with .RMF"),
    Fault("pna_bad_subchunk", ("PNA-RESP-SUBCHUNKS",), "a sub-chunk's length byte overstates it"),
    Fault("pna_no_rmf", ("PNA-RESP-HEADERS",), "the .RMF chunk is left out"),
    Fault("pna_short_prop", ("PNA-RESP-PROP-SIZE",), "PROP is 46 bytes"),
    Fault("pna_missing_mdpr", ("PNA-RESP-MDPR",), "PROP announces two streams, one MDPR follows"),
    Fault("pna_full_data_size", ("PNA-RESP-DATA-HEADER",), "DATA's size counts the packets"),
    Fault("pna_huge_headers", ("PNA-RESP-HEADER-BOUND",), "CONT carries a 5000-byte comment"),
    Fault(
        "pna_no_challenge_block",
        ("PNA-RESP-CHALLENGE-BLOCK", "PNA-INTEROP-PLAY"),
        "the data packets follow the DATA header at once",
    ),
    Fault("pna_unequal_lengths", ("PNA-DATA-FRAMING",), "the two lengths of a packet differ"),
    Fault("pna_index_gap", ("PNA-DATA-INDEX",), "packet indices skip one every ten packets"),
    Fault("pna_time_backwards", ("PNA-DATA-TIMESTAMP",), "every fifth packet is stamped early"),
    Fault("pna_tiny_packet", ("PNA-DATA-LENGTH-MIN",), "the first packet has length 8"),
    Fault(
        "pna_keepalive_breaks",
        ("PNA-SERVER-KEEPALIVE",),
        "a keep-alive from the client ends the stream",
    ),
    Fault("pna_bare_close", ("PNA-SERVER-MESSAGE",), "an unknown path gets a bare close"),
    Fault(
        "pna_answers_junk",
        ("PNA-SERVER-BAD-REQUEST",),
        "a request without the signature still gets a PNA response",
    ),
]

_CLIENT = [
    Fault("pna_client_bad_signature", ("PNA-REQ-SIGNATURE",), "the request starts PNM"),
    Fault("pna_client_no_challenge", ("PNA-REQ-CHALLENGE",), "the request has no challenge"),
    Fault("pna_client_no_bandwidth", ("PNA-REQ-BANDWIDTH",), "the request has no bandwidth"),
    Fault("pna_client_bad_guid", ("PNA-REQ-GUID",), "the GUID chunk is not a GUID"),
    Fault("pna_client_no_caps", ("PNA-REQ-CAPS",), "the request has no capabilities chunk"),
    Fault(
        "pna_client_bad_chunk_length",
        ("PNA-REQ-CHUNK-TLV",),
        "the first chunk's length claims 65535 bytes",
    ),
    Fault(
        "pna_client_no_client_string",
        ("PNA-REQ-CLIENT-STRING",),
        "the client string record is left out",
    ),
    Fault("pna_client_bad_trailer", ("PNA-REQ-TRAILER",), "the request ends xx, not yB"),
    Fault("pna_client_wrong_path", ("PNA-REQ-PATH",), "the path record names another path"),
    Fault(
        "pna_client_no_response",
        ("PNA-CLIENT-CHALLENGE-RESPONSE",),
        "the server challenge goes unanswered",
    ),
    Fault("pna_client_no_keepalive", ("PNA-CLIENT-KEEPALIVE",), "no keep-alive is ever sent"),
    Fault(
        "pna_client_stalls",
        ("PNA-CLIENT-READS-DATA",),
        "after the headers the client stops reading",
    ),
]

FAULTS: dict[str, Fault] = {f.name: f for f in _SERVER + _CLIENT}
