"""A stand-in of Slack for the tests: the Web API, file hosts, response URLs and Socket Mode on a local port
(:mod:`tests.slack.standin`), and the requests Slack sends to an app (:mod:`tests.slack.payloads`)."""

from tests.slack.standin import Call, SlackStandIn, Workspace

__all__ = ["Call", "SlackStandIn", "Workspace"]
