"""The Pulumi stack-file secrets hook: ciphertext passes, plain-text secrets do not."""

from __future__ import annotations

from configtrail.gates import pulumi_secrets

CLEAN = """\
secretsprovider: awskms://alias/configtrail?region=us-east-1
encryptedkey: AQICAHhbGVhdmUgbWUgYWxvbmUgaXQgaXMganVzdCBiYXNlNjQ=
config:
  aws:region: us-east-1
  app:dbPassword:
    secure: v1:Zm9vYmFy:YmFyYmF6cXV4
  app:apiToken:
    secure: AAABAGZvb2JhcmJhemZvb2JhcmJheg==
  app:keyPrefix: configtrail
"""


def test_pulumi_ciphertext_and_provider_urls_pass():
    assert pulumi_secrets.scan_text(CLEAN, "Pulumi.dev.yaml") == []


def test_the_shipped_stack_files_pass():
    from configtrail.plan import runner

    for path in runner.ENVIRONMENTS.glob("Pulumi.*.yaml"):
        assert pulumi_secrets.scan_text(path.read_text(), str(path)) == []


def test_each_plain_text_secret_is_reported_with_its_line():
    text = CLEAN.replace("app:keyPrefix: configtrail", "app:dbPassword2: hunter2hunter2") + (
        "  app:apiKey:\n    secure: not ciphertext at all\n  aws:accessKey: AKIAIOSFODNN7EXAMPLE\n"
    )
    findings = pulumi_secrets.scan_text(text, "Pulumi.dev.yaml")
    assert any(
        f.startswith("Pulumi.dev.yaml:9: config.app:dbPassword2 looks like a secret")
        for f in findings
    ), findings
    assert any(":11: config.app:apiKey.secure is not Pulumi ciphertext" in f for f in findings)
    assert any(":12: config.aws:accessKey holds an AWS access key id" in f for f in findings)


def test_a_provider_url_with_credentials_or_an_unknown_scheme_is_reported():
    bad = pulumi_secrets.scan_text("secretsprovider: hashivault://user:pw@vault/key\n", "P.yaml")
    assert bad == [
        "P.yaml:1: secretsprovider URL carries credentials; use the provider's environment instead"
    ]
    odd = pulumi_secrets.scan_text("secretsprovider: s3://bucket/key\n", "P.yaml")
    assert "is not a Pulumi secrets provider" in odd[0]
    key = pulumi_secrets.scan_text("encryptedkey: plain words\n", "P.yaml")
    assert key == ["P.yaml:1: encryptedkey is not base64 ciphertext"]


def test_exit_codes(tmp_path):
    good, bad, broken = tmp_path / "good.yaml", tmp_path / "bad.yaml", tmp_path / "broken.yaml"
    good.write_text(CLEAN)
    bad.write_text("config:\n  app:password: hunter2\n")
    broken.write_text("config: [unclosed\n")
    assert pulumi_secrets.main([str(good)]) == 0
    assert pulumi_secrets.main([str(good), str(bad)]) == 1
    assert pulumi_secrets.main([str(broken)]) == 2
