"""bcsync: BigCommerce webhooks to marketing events, profiles and flow triggers.

In Lambda, a cold start creates some 100,000 objects that live as long as the process (modules,
classes, validators, service models) and next to no garbage, yet the cyclic collector would scan
them some 200 times while they load. It is paused from here, the first import of every function,
until the composition root is built (`bcsync.wiring.container`), which freezes what is loaded
(never scanned again) and resumes it. Elsewhere (tests, the CLI) the collector is left alone.
"""

import gc
import os

if os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
    gc.disable()
