"""bcsync: BigCommerce webhooks to marketing events, profiles and flow triggers.

In Lambda, a cold start creates some 100,000 objects that live as long as the process (modules,
classes, validators, service models) and next to no garbage, yet the cyclic collector would scan
them some 200 times while they load. It is paused from here, the first import of every function,
until the function's code is loaded: `resume_collection` freezes what is loaded (never scanned
again) and resumes it. The loading leaves some 700 unreachable objects, frozen with the rest:
collecting them first would cost the very scan this saves. Elsewhere (tests, the CLI) the
collector is left alone.
"""

import gc
import os

_PAUSED_FOR_COLD_START = bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME"))
if _PAUSED_FOR_COLD_START:
    gc.disable()


def resume_collection() -> None:
    """The cold start's loading is done: called by the composition root and the HTTP edge, built
    once each function's code is loaded (whichever comes first)."""
    if _PAUSED_FOR_COLD_START and not gc.isenabled():
        gc.freeze()
        gc.enable()
