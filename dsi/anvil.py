"""Anvil-specific fast paths for bulk transactions (tests and benchmarks of full buffers).

Ape sends one transaction at a time and waits for its receipt (~10-50 ms each); filling a
1,024-slot observation ring that way takes minutes. Here the node stamps each block
`spacing` seconds later by itself (`anvil_setBlockTimestampInterval`) and the transactions
go straight to web3 without waiting for receipts.
"""

from __future__ import annotations


def bulk_call(chain, account, contract, method: str, count: int, spacing: int, *args, gas: int = 300_000) -> None:
    """Send `count` transactions `contract.method(*args)` from an unlocked anvil account,
    one per block, each block `spacing` seconds after the previous."""
    provider = chain.provider
    w3 = provider.web3
    data = getattr(contract, method).encode_input(*args)
    provider.make_request("anvil_setBlockTimestampInterval", [spacing])
    try:
        tx = {"from": account.address, "to": contract.address, "data": data, "gas": gas}
        last = None
        for _ in range(count):
            last = w3.eth.send_transaction(tx)
        if last is not None:
            w3.eth.wait_for_transaction_receipt(last)
    finally:
        provider.make_request("anvil_removeBlockTimestampInterval", [])
