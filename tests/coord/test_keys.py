"""Names and URLs: what goes into keys is checked, what is shown never carries a password."""

from __future__ import annotations

import pytest

from cexarb.coord.keys import FleetKeys, check_name, check_url, redact_url
from cexarb.coord.redis import RedisCoordinator
from cexarb.model.errors import ConfigError


def test_a_password_in_a_coordinator_url_is_never_shown():
    url = "rediss://trader:s3cret-pw@redis.internal:6380/2"
    assert redact_url(url) == "rediss://trader:***@redis.internal:6380/2"
    assert "s3cret" not in repr(RedisCoordinator(url, "f", "m"))
    with pytest.raises(ConfigError) as err:
        check_url("http://trader:s3cret-pw@redis.internal:6380/2")
    assert "s3cret" not in str(err.value)


@pytest.mark.parametrize("name", ["", "a b", "x:y", "{f}", "n" * 65])
def test_names_that_would_break_keys_are_refused(name):
    with pytest.raises(ConfigError):
        check_name("member", name)


def test_every_key_of_a_fleet_shares_one_cluster_slot():
    keys = FleetKeys("desk-1")
    assert keys.events.startswith("cexarb:{desk-1}:") and keys.bucket("mexc.spot:orders").startswith(
        "cexarb:{desk-1}:"
    )
