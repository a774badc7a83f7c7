"""Reads gatehouse's own simulators with pymodbus (an independent Modbus implementation) at
the addresses docs/interfaces.md#modbus-controllers gives, writes where the spec says the gateway writes, and prints
what it found as JSON for the Rust test to compare with what it scripted.

usage: read_sim.py RELAY_IO_PORT TIMED_RELAY_PORT READER_CONTROLLER_PORT
"""

import asyncio
import json
import sys

from pymodbus.client import AsyncModbusTcpClient


async def connect(port):
    client = AsyncModbusTcpClient("127.0.0.1", port=port)
    if not await client.connect():
        sys.exit(f"cannot connect to the simulator on port {port}")
    return client


def ok(response):
    if response.isError():
        sys.exit(f"the simulator refused a request: {response}")
    return response


def refusal(response):
    """The Modbus exception code of a refused request, or None if it was accepted."""
    return response.exception_code if response.isError() else None


async def relay_io(port):
    c = await connect(port)
    found = {"discrete": ok(await c.read_discrete_inputs(0, count=8)).bits[:8]}
    ok(await c.write_coil(3, True))
    found["coils"] = ok(await c.read_coils(0, count=4)).bits[:4]
    c.close()
    return found


async def timed_relay(port):
    c = await connect(port)
    found = {"status": ok(await c.read_input_registers(0, count=4)).registers}
    found["fire"] = ok(await c.read_input_registers(0x0010, count=1)).registers[0]
    ok(await c.write_register(0x0101, 50))  # release channel 1 for 5 s
    ok(await c.write_register(0x0203, 1))  # hold channel 3 open
    found["status_after"] = ok(await c.read_input_registers(0, count=4)).registers
    # What the device refuses: release times outside 1..600 (exception 3, illegal data value)
    # and channels past its 16 (exception 2, illegal data address).
    found["refused"] = [
        refusal(await c.write_register(address, value))
        for address, value in [(0x0102, 0), (0x0102, 601), (0x0102, 65535), (0x0110, 10), (0x0210, 1)]
    ]
    c.close()
    return found


async def reader_controller(port):
    c = await connect(port)
    found = {
        "discrete": ok(await c.read_discrete_inputs(0, count=4)).bits[:4],
        "counter": ok(await c.read_input_registers(0x0100, count=1)).registers[0],
        "slots": [ok(await c.read_input_registers(0x0110 + 6 * i, count=6)).registers for i in range(16)],
    }
    c.close()
    return found


async def main():
    relay, timed, reader = (int(p) for p in sys.argv[1:4])
    print(json.dumps({
        "relay_io": await relay_io(relay),
        "timed_relay": await timed_relay(timed),
        "reader_controller": await reader_controller(reader),
    }), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
