"""What every test process shares."""

from __future__ import annotations

import functools

import botocore.session

# A Lambda process builds one boto3 session; the tests build one per stack (a fresh container
# each), and each new session would read and parse the same service-model files again. They are
# read-only data: one loader, and its cache, serves every session of the test process.
botocore.session.create_loader = functools.cache(botocore.session.create_loader)  # type: ignore[attr-defined]
