# Independent Python model of KernelCheck's SeededRNG (xoshiro256** seeded by SplitMix64).
# Prints the first values and the FNV-1a checksum of the first 1,000 outputs for seed 42;
# SeededRNGTests pins the same numbers, so a change to the Swift generator is caught.
M=(1<<64)-1
def splitmix(x):
    x=(x+0x9E3779B97F4A7C15)&M; z=x
    z=((z^(z>>30))*0xBF58476D1CE4E5B9)&M
    z=((z^(z>>27))*0x94D049BB133111EB)&M
    return x, z^(z>>31)
def rotl(x,k): return ((x<<k)|(x>>(64-k)))&M
def gen(seed,n):
    s=[];x=seed
    for _ in range(4):
        x,z=splitmix(x); s.append(z)
    out=[]
    for _ in range(n):
        r=(rotl((s[1]*5)&M,7)*9)&M
        t=(s[1]<<17)&M
        s[2]^=s[0]; s[3]^=s[1]; s[1]^=s[2]; s[0]^=s[3]; s[2]^=t; s[3]=rotl(s[3],45)
        out.append(r)
    return out
v=gen(42,1000)
print([hex(a) for a in v[:3]])
# fnv-1a style checksum over the 1000 values (xor then multiply)
h=0xcbf29ce484222325
for a in v:
    h^=a; h=(h*0x100000001b3)&M
print(hex(h))
print(hex(gen(0,1)[0]))
