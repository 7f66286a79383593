rev: prints its input backwards
cell 0 stays zero as an end marker; each byte read goes one cell further right
until end of input (read as 0)

>,[>,]

then walk back to the marker printing each byte on the way
<[.<]
