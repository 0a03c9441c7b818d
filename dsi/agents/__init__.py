"""Lab agents: traders, keepers, arbitrageurs, attackers, the oracle reporter."""
