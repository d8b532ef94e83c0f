"""The Slack adapter: slack-bolt's AsyncApp translating between Slack and the core."""
