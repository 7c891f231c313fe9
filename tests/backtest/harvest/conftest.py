"""The loopback Deribit (``FakeDeribit``) and its client, for every harvester test module."""

from tests.backtest.harvest.test_harvester import client, fake, sleeps  # noqa: F401
