"""Secret redaction and length caps for exception messages and stacktraces.

Used by the agent before a failure leaves the process and again by the receiver before it stores
one (CONTRACT §2, §4), so a failure from an agent without ``otel_failcat`` never stores a secret
either. Each secret found is replaced by ``[REDACTED:<kind>]``; for credentials that come with a
label (``password=``, ``Authorization: Bearer``, ``user:pass@host``) the label is kept and only
the value goes.

Kinds, in the order they are applied:

========================  ====================================================================
``private_key``           ``-----BEGIN ... PRIVATE KEY-----`` blocks — PKCS#8, RSA, EC,
                          ``ENCRYPTED``, ``OPENSSH``, ``PGP PRIVATE KEY BLOCK`` — raw or
                          escaped (``\\n`` inside JSON or a ``repr()``, as in a GCP
                          service-account file), also when cut off before END
``password``              the password of ``scheme://user:password@host`` (user and host kept)
``slack_webhook``         ``https://hooks.slack.com/services/...`` (and ``workflows``/``triggers``)
``jwt``                   ``eyJ...``.``eyJ...``.``...`` JSON Web Tokens
``authorization``         any other ``Authorization:`` / ``Proxy-Authorization:`` credential
                          (``Token``, ``Digest``, ``Negotiate``, ``NTLM`` …, or a bare value)
``bearer_token``          ``Authorization: Bearer <token>`` and a free-standing ``Bearer <token>``
``basic_auth``            ``Authorization: Basic <b64>`` and a free-standing ``Basic <b64>``
``cookie``                the values of a ``Cookie:`` header (every cookie) and of a
                          ``Set-Cookie:`` header (its cookie; ``Path=/`` and the other
                          attributes stay); cookie names stay
``url_credential``        the value of a query parameter (after ``?`` or ``&``) named ``sig``,
                          ``signature``, ``X-Amz-Signature``, ``X-Amz-Credential``,
                          ``X-Amz-Security-Token``, ``X-Goog-Signature``, ``X-Goog-Credential``,
                          ``token``, ``access_token``, ``refresh_token``, ``id_token``,
                          ``auth_token``, ``session_token``, ``private_token``, ``key``,
                          ``api_key``, ``api-key``, ``apikey``, ``access_key``, ``secret_key``,
                          ``client_secret``, ``secret``, ``password``, ``passwd``, ``pwd``, and
                          ``code`` when its value is 16+ characters and not a plain word (an
                          OAuth authorization code)
``password`` (SQL)        the literal of ``PASSWORD '...'``, ``PASSWORD('...')``,
                          ``IDENTIFIED BY '...'``, ``IDENTIFIED WITH plugin BY '...'`` (as in
                          ``db.statement`` and driver errors; the quotes stay)
provider tokens           by prefix and shape, no label needed: ``stripe_key`` (``sk_live_``,
                          ``sk_test_``, ``rk_live_``, ``rk_test_``, ``whsec_``),
                          ``huggingface_token`` (``hf_``, ``api_org_``), ``gitlab_token``
                          (``glpat-``, ``gldt-``, ``glrt-``, ``glptt-``, ``glsoat-``, ``glcbt-``,
                          ``glft-``, ``glimt-``, ``glagent-``, ``gloas-``, ``glffct-``, ``glwt-``,
                          ``GR1348941``), ``grafana_token`` (``glsa_``), ``groq_key`` (``gsk_``),
                          ``xai_key`` (``xai-``), ``sendgrid_key`` (``SG.<22>.<43>``),
                          ``twilio_key`` (``SK`` + 32 hex), ``mailgun_key`` (``key-`` + 32),
                          ``mailchimp_key`` (32 hex + ``-us<n>``), ``npm_token`` (``npm_``),
                          ``pypi_token`` (``pypi-AgEIcHlwaS5vcmc…``, TestPyPI too),
                          ``docker_token`` (``dckr_pat_``, ``dckr_oat_``), ``cloudflare_ca_key``
                          (``v1.0-``), ``digitalocean_token`` (``dop_v1_``, ``doo_v1_``,
                          ``dor_v1_``), ``shopify_token`` (``shpat_``, ``shpca_``, ``shppa_``,
                          ``shpss_``), ``linear_key`` (``lin_api_``, ``lin_oauth_``),
                          ``notion_token`` (``secret_`` + 43, ``ntn_``), ``google_oauth_secret``
                          (``GOCSPX-``), ``google_oauth_token`` (``ya29.``), ``atlassian_token``
                          (``ATATT3``), ``postman_key`` (``PMAK-``), ``vault_token`` (``hvs.``,
                          ``hvb.``, ``hvr.``), ``databricks_token`` (``dapi``), ``sentry_token``
                          (``sntryu_``), ``replicate_token`` (``r8_``), ``perplexity_key``
                          (``pplx-``), ``langsmith_key`` (``lsv2_pt_``, ``lsv2_sk_``),
                          ``tavily_key`` (``tvly-``), ``age_secret_key`` (``AGE-SECRET-KEY-1``),
                          ``new_relic_key`` (``NRAK-``), ``aws_bedrock_key`` (``ABSK…``)
``anthropic_key``         ``sk-ant-...``
``openai_key``            ``sk-...``, ``sk-proj-...``, ``sk-svcacct-...`` (≥ 20 characters after
                          ``sk-``; masked forms such as ``sk-proj-****abcd`` too)
``aws_access_key_id``     ``AKIA``/``ASIA``/``ABIA``/``ACCA`` + 16 upper-case letters or digits
``aws_secret_key``        the 40-character value after ``aws_secret_access_key`` /
                          ``SecretAccessKey`` (``=`` or ``:``, quoted or not)
``github_token``          ``ghp_``, ``gho_``, ``ghs_``, ``ghu_``, ``ghr_`` tokens and
                          ``github_pat_``
``google_api_key``        ``AIza`` + 35 characters
``slack_token``           ``xoxb-``, ``xoxa-``, ``xoxp-``, ``xoxr-``, ``xoxs-``, ``xoxo-``,
                          ``xapp-``
``password`` /            values of ``password``/``passwd``/``pwd``/``passphrase``,
``api_key`` /             ``api_key``/``apikey``/``x-api-key``/``access_key``/``private_key``/
                          ``app_key``/``application_key``/``auth_key``/``AccountKey``/
                          ``SharedAccessKey``,
``token`` /               ``token``/``access_token``/``auth_token``/``refresh_token``/``id_token``,
``secret`` /              ``secret``/``client_secret``/``secret_key``,
``credential``            ``credential(s)`` pairs written ``key=value``, ``key: value``,
                          ``"key": "value"`` (also with escaped quotes, ``\\"key\\": \\"value\\"``
                          in JSON); the key is kept. Also inside longer names, which is how
                          keys without a prefix of their own are caught under their label:
                          Datadog ``DD_API_KEY``/``DD_APP_KEY``/``dd-api-key``, Twilio
                          ``TWILIO_AUTH_TOKEN``, Cloudflare ``CLOUDFLARE_API_TOKEN`` and
                          ``X-Auth-Key``, Azure ``AccountKey=`` in connection strings
``email``                 e-mail addresses
``base64_secret``         a run of 16-8192 base64 characters (with 16 letters and digits in a
                          row) that decodes to printable text holding ``user:password`` or
                          anything the rules above redact (a Kubernetes secret value,
                          ``Basic`` credentials without the label, a base64 of ``sk-…``); the
                          run goes whole (in a URL path, the part between ``/``)
``custom``                matches of the ``FAILCAT_REDACTION_EXTRA_PATTERNS``
========================  ====================================================================

A token is recognised at a boundary: not glued to a letter or digit in front of it (``_`` and
``-`` also count for the prefix formats), where an escaped ``\\n``, ``\\r`` or ``\\t`` (JSON,
``repr()``) counts as a boundary.

To keep ordinary messages intact, a label-driven value is only taken when it looks like a
credential: a quoted value or a ``key=value`` pair always is (except that ``token``/``key``/
``secret`` values need ≥ 8 characters there, so ``max_token=5`` stays); after ``:`` an unquoted
value must not be a plain word (``Invalid token: expired`` stays). The same rule keeps
``Bearer authentication`` and ``Basic realm`` intact.

All patterns are linear for Python's backtracking ``re``: every repetition is bounded, and no
quantified group repeats over characters its neighbour can also take. Each built-in rule is only
run near the places where its cheap needle (``sk-``, ``akia``, ``://``, ``token``, ``@`` ...)
occurs in the lower-cased text, in windows wide enough to hold its longest match; the provider
tokens and base64 runs only where a run of 16 letters, digits, ``_`` or ``-`` begins, found for
the whole text once per pass with one ``bytes.translate``. This makes redaction of a stacktrace
several times faster than scanning it with every rule. Text never seen before is the normal case
(a stacktrace's last line carries its message), so the common miss is made cheap rather than
remembered: a labelled rule (``key_value``, ``authorization``, ``cookie``, ``aws_secret_key``)
tries a needle only when the end of a label and its ``=`` or ``:`` are in reach of it
(``max_tokens=`` and ``tokens per min`` are not), and then only at word starts; each rule looks
only for those of its needles the text holds; a provider token is tried only where a run begins
like one and is long enough for the shortest format beginning so. Outputs are byte-identical to
a frozen copy of the engine before these cuts (``tests/otel_failcat/_frozen_redaction_v1``).

A stacktrace is redacted frame by frame (:mod:`._stacktrace`): its frames repeat between
failures (the same code paths fail at the same lines) while the whole text does not, so each
frame's redaction is remembered in a bounded memo (2,048 frames, 1 M characters), and the
exception line reuses the redaction of the message just redacted by :meth:`Redactor.message`.
Only the rest is redacted fresh. A cut is made only where no rule's match can reach across it,
so the output is the whole-text redaction's, byte for byte; with extra patterns, or for text
beyond ASCII, the stacktrace is redacted whole.

Redaction is idempotent: ``redact(redact(t)) == redact(t)``. Removing one secret can change what
its neighbours look like, so the rules are applied in passes until a pass changes nothing (at
most four; a text without secrets takes one). An extra pattern that matches its own
``[REDACTED:custom]`` breaks idempotence; that is the pattern author's business.

Length caps, applied after redaction by :meth:`Redactor.message` and :meth:`Redactor.stacktrace`:

- Only the first ``2 * cap`` characters of a message are redacted at all (the rest could never
  be shown), which bounds the time spent on a huge message. If the redacted text is longer than
  the cap, its head is kept and ``…[truncated N chars]`` appended, the whole staying ≤ the cap.
- A stacktrace keeps its head (a quarter of the budget) *and its tail* (the rest): the tail holds
  the raising frame and the exception line, the most useful part. For a stacktrace longer than
  ``2 * cap`` only its first and last ``cap`` characters are redacted. The marker is
  ``\\n…[truncated N chars]\\n`` between head and tail.
- Such a window ends (or, for the tail, starts) at whitespace, not inside a word: a secret the
  window cut in two is no longer recognisable, and once the window's other secrets have shrunk
  to markers, its fragment could land in the part that is kept. The fragment is left out and
  counted instead.
- ``N`` counts the characters left out (of the redacted text, plus those never redacted).
- With redaction disabled the caps still apply.

Redaction never raises: if it fails unexpectedly the text is replaced by
``[REDACTED:unredactable]`` rather than risk a leak. Bad settings raise :class:`ValueError` with a
one-line reason when the settings are built, never later.
"""

from otel_failcat.redaction._attributes import REDACTED, credential_key, redact_attribute
from otel_failcat.redaction._engine import redaction_marker
from otel_failcat.redaction._redactor import Redactor
from otel_failcat.redaction._settings import RedactionSettings

__all__ = [
    "REDACTED",
    "RedactionSettings",
    "Redactor",
    "credential_key",
    "redact_attribute",
    "redaction_marker",
]
