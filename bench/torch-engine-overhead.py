"""The torch engine's model against the same network written by hand in PyTorch, in one process,
interleaved: what the Keras-JSON interpreter (python/autobatch_trainer/keras_model.py) costs a
training step. Usage (after saving the app's models with bench/torch-engine-overhead.mjs):
  /usr/bin/python3 bench/torch-engine-overhead.py <threads> small|large <folder with small/ and large/>"""
import sys, time, torch, torch.nn as nn, torch.nn.functional as F
import os
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'python'))
from autobatch_trainer.keras_model import load_tfjs_model
torch.set_num_threads(int(sys.argv[1]))
kind = sys.argv[2]
net, _ = load_tfjs_model(os.path.join(sys.argv[3], kind), torch.device('cpu'))
net.set_trained_layers(set(net.layer_names)); net.train()
if kind == 'small':
    ref = nn.Sequential(nn.Conv2d(1,16,3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(16,32,3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(32*5*5,10))
else:
    ref = nn.Sequential(nn.Conv2d(1,32,3), nn.ReLU(), nn.Conv2d(32,32,3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32,64,3), nn.ReLU(), nn.Conv2d(64,64,3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(64*4*4,128), nn.ReLU(), nn.Linear(128,10))
def bench(model, nhwc, batch, steps=40):
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], 1e-3, eps=1e-7)
    x = torch.rand(batch, 28, 28, 1); y = torch.randint(0, 10, (batch,))
    if not nhwc: x = x.permute(0,3,1,2).contiguous()
    for i in range(5):
        loss = F.cross_entropy(model(x), y); opt.zero_grad(); loss.backward(); opt.step()
    t = time.perf_counter()
    for i in range(steps):
        loss = F.cross_entropy(model(x), y); opt.zero_grad(); loss.backward(); opt.step()
    return steps * batch / (time.perf_counter() - t)
for batch in (32, 64, 256):
    a = []; b = []
    for r in range(3):
        a.append(bench(net, True, batch)); b.append(bench(ref, False, batch))
    a.sort(); b.sort()
    print(kind, batch, 'ours', round(a[1]), 'plain', round(b[1]), 'ratio', round(a[1]/b[1], 2))
