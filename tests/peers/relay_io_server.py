"""An independent relay-io controller for gatehouse's tests, built on pymodbus's SimDevice.

relay-io (docs/interfaces.md#modbus-controllers): coil ch = lock (1 released), discrete input ch = door contact
(1 open), discrete input 4 + ch = exit button. Listens on 127.0.0.1:PORT.

stdin, one command per line: `open CH`, `close CH`, `exit CH` (pressed until `release CH`).
stdout: `ready` once listening, then `coil ADDRESS VALUE` for every coil written, flushed.
"""

import asyncio
import sys

from pymodbus.constants import ExcCodes  # noqa: F401  (documents the action's return type)
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

inputs = [False] * 16


async def action(function_code, start_address, address, count, current_registers, set_values):
    # Bit addressing: current_registers[0] holds inputs 0-15 as bits (DESIGN.md pitfalls).
    if function_code == 2:
        word = 0
        for i, on in enumerate(inputs):
            if on:
                word |= 1 << i
        current_registers[0] = word
    elif function_code in (5, 15) and set_values is not None:
        for i, value in enumerate(set_values):
            print(f"coil {address + i} {int(bool(value))}", flush=True)
    return None


async def commands():
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := await reader.readline():
        words = line.decode().split()
        if len(words) != 2:
            continue
        what, ch = words[0], int(words[1])
        if what == "open":
            inputs[ch] = True
        elif what == "close":
            inputs[ch] = False
        elif what == "exit":
            inputs[4 + ch] = True
        elif what == "release":
            inputs[4 + ch] = False
        print(f"ok {what} {ch}", flush=True)


async def main(port):
    bits = lambda: [SimData(0, count=16, values=False, datatype=DataType.BITS)]  # noqa: E731
    regs = lambda: [SimData(0, count=1, values=0, datatype=DataType.REGISTERS)]  # noqa: E731
    device = SimDevice(id=0, simdata=(bits(), bits(), regs(), regs()), action=action)
    server = ModbusTcpServer(context=device, address=("127.0.0.1", port))
    serving = asyncio.create_task(server.serve_forever())
    await asyncio.sleep(0.3)
    print("ready", flush=True)
    await commands()
    serving.cancel()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
