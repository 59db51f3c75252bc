"""Operations: what runs beside the web app — the e-mail outbox, encrypted backups, the
retention purge — and the `flask` commands that drive them and load the demo clinic."""
