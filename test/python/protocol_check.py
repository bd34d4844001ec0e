"""Test helper: the Python trainer's side of the wire, for test/integration/torch-protocol.test.ts.
  protocol_check.py verdicts <fixtures.json>        -> one JSON line: [{"name", "valid", "why"}...]
  protocol_check.py probe-verdicts <fixtures.json>  -> the same for probe-session messages
  protocol_check.py echo                      -> each stdin line decoded and encoded again"""
import json
import sys

from typing import Any, Callable

from autobatch_trainer.protocol import Invalid, check_host_message, check_probe_host_message, decode_line, encode_line


def verdicts(path: str, check: Callable[[Any], Any]) -> None:
    with open(path, encoding="utf-8") as f:
        fixtures = json.load(f)
    out = []
    for kind in ("valid", "invalid"):
        for case in fixtures[kind]:
            try:
                check(decode_line(json.dumps(case["message"])))
                out.append({"name": case["name"], "valid": True, "why": None})
            except Invalid as err:
                out.append({"name": case["name"], "valid": False, "why": str(err)})
    print(json.dumps(out))


def echo() -> None:
    for line in sys.stdin:
        sys.stdout.buffer.write(encode_line(decode_line(line)))
    sys.stdout.flush()


if __name__ == "__main__":
    if sys.argv[1] == "verdicts":
        verdicts(sys.argv[2], check_host_message)
    elif sys.argv[1] == "probe-verdicts":
        verdicts(sys.argv[2], check_probe_host_message)
    else:
        echo()
