"""Client-side protobuf classes of MEXC spot WebSocket pushes (generated; see the .proto)."""

from cexarb.venues.mexc.pb.mexc_client_push_pb2 import PushDataV3ApiWrapper

__all__ = ["PushDataV3ApiWrapper"]
