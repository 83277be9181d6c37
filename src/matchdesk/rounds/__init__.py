"""Match rounds: building a round from the roster, the round board, publishing,
creators' answers, rematches and the outcome of each match."""
