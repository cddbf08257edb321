"""PyPI's mirroring XML-RPC methods, as bandersnatch 6 and ``xmlrpc.client`` call them.

``changelog_last_serial()`` → int; ``list_packages_with_serial()`` → {display name: serial} of
the served projects; ``changelog_since_serial(n)`` → ``[name, version, timestamp, action,
serial]`` for the journal entries after ``n`` (at most 50 000 per call, as PyPI).

Requests are parsed by defusedxml's expat parser with DTDs, entities and external references
forbidden, so entity-expansion and external-entity bodies are refused before any expansion.
Every problem (malformed XML, unknown method, wrong arguments, even an internal error) is
answered as an XML-RPC fault, never as an HTTP error.

``list_packages_with_serial`` is a whole-index document (apps/index/documents): its answer is
the document's manifest, which the view streams, not bytes.
"""

import logging
import xmlrpc.client
from xmlrpc.client import Fault

from defusedxml import DefusedXmlException
from defusedxml.xmlrpc import DefusedExpatParser

from apps.catalog import selectors

from .documents.formats import xml_text
from .documents.services import index_documents_current, journal_head
from .documents.store import Manifest

logger = logging.getLogger(__name__)

# The three calls are a few hundred bytes; anything far larger is not one of them.
MAX_REQUEST_SIZE = 64 * 1024
CHANGELOG_LIMIT = 50_000
# Serials are the journal's 64-bit ids; <int> and <i8> carry any number of digits.
SERIAL_MIN, SERIAL_MAX = -(2**63), 2**63 - 1

# The fault codes of the XML-RPC interoperability specification (PyPI uses them too).
PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603


def call_parse(body: bytes) -> tuple[str, tuple]:
    """The method name and parameters of an XML-RPC ``methodCall``; raises Fault."""
    unmarshaller = xmlrpc.client.Unmarshaller()
    parser = DefusedExpatParser(
        unmarshaller, forbid_dtd=True, forbid_entities=True, forbid_external=True
    )
    try:
        parser.feed(body)
        parser.close()
        params = unmarshaller.close()
    except DefusedXmlException as exc:
        raise Fault(PARSE_ERROR, f"forbidden XML construct: {type(exc).__name__}") from None
    except Exception:  # expat, unmarshalling (bad numbers, base64, dates...): all a bad request
        raise Fault(PARSE_ERROR, "malformed XML-RPC request") from None
    method = unmarshaller.getmethodname()
    if not method:
        raise Fault(INVALID_REQUEST, "not an XML-RPC methodCall (no methodName)")
    return method, params


def changelog_last_serial() -> int:
    return selectors.journal_last_serial()


def list_packages_with_serial() -> Manifest:
    """PyPI's slowest mirroring call: the whole-index document at the node's serial or newer."""
    serial, stamp = journal_head()
    return index_documents_current(serial=serial, stamp=stamp)


def changelog_since_serial(serial: int) -> list[list]:
    if not SERIAL_MIN <= serial <= SERIAL_MAX:
        raise Fault(INVALID_PARAMS, "changelog_since_serial takes a serial that fits 64 bits")
    return [
        [
            xml_text(entry.name),
            xml_text(entry.version),
            int(entry.submitted_date.timestamp()),
            xml_text(entry.action),
            entry.serial,
        ]
        for entry in selectors.journal_since(serial=serial, limit=CHANGELOG_LIMIT)
    ]


# name -> (function, parameter types); ``type(value) is t`` so a boolean is not an int.
METHODS = {
    "changelog_last_serial": (changelog_last_serial, ()),
    "list_packages_with_serial": (list_packages_with_serial, ()),
    "changelog_since_serial": (changelog_since_serial, (int,)),
}


def call_dispatch(method: str, params: tuple) -> object:
    """Run one call; raises Fault for an unknown method or arguments of the wrong kind."""
    entry = METHODS.get(method)
    if entry is None:
        raise Fault(METHOD_NOT_FOUND, f"method {method[:100]!r} is not supported")
    function, types = entry
    if len(params) != len(types) or any(
        type(value) is not kind for value, kind in zip(params, types, strict=False)
    ):
        expected = ", ".join(kind.__name__ for kind in types) or "no arguments"
        raise Fault(INVALID_PARAMS, f"{method} takes {expected}")
    return function(*params)


def _response_render(result: object) -> bytes:
    return xmlrpc.client.dumps((result,), methodresponse=True, allow_none=True).encode()


def fault_render(fault: Fault) -> bytes:
    return xmlrpc.client.dumps(fault, methodresponse=True).encode()


def xmlrpc_handle(body: bytes) -> bytes | Manifest:
    """The XML-RPC response body for a request body: a result or a fault, or the manifest of
    the whole-index document that answers ``list_packages_with_serial``."""
    if len(body) > MAX_REQUEST_SIZE:
        return fault_render(Fault(INVALID_REQUEST, "request too large"))
    try:
        method, params = call_parse(body)
        result = call_dispatch(method, params)
        return result if isinstance(result, Manifest) else _response_render(result)
    except Fault as fault:
        return fault_render(fault)
    except Exception:
        logger.exception("XML-RPC call failed")
        return fault_render(Fault(INTERNAL_ERROR, "internal error"))
