"""A frozen copy of ``otel_failcat.redaction`` as it was before the first-seen speed-ups.

Test-only: ``test_redaction_equals_frozen_v1`` checks that the package, tuned for speed, gives
byte-identical results to these rules over tens of thousands of generated texts. Do not edit
these files to follow a change of the rules: a change of what is redacted is a change of this
reference, made on purpose, in its own commit.
"""

from tests.otel_failcat._frozen_redaction_v1._redactor import Redactor

__all__ = ["Redactor"]
