"""What the features share, and the only handlers they may import: which chat an update comes from
(`chats`), the conversation steps (`states`), how one feature opens another's conversation
(`entries`), the buttons and words two features show alike (`holds`, `statuses`, `follow_ups`),
filters, button payload types, screens and replies, and localized formatting (`filters`, `payloads`,
`screen`, `replies`, `l10n`). Imports no feature."""
