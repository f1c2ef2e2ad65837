"""Singer tap for chat messages from the Cekat and Convotic APIs."""
