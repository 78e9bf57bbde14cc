import type protobuf from 'protobufjs';

export declare const ExportTraceServiceRequest: protobuf.Type;
export declare const ExportTraceServiceResponse: protobuf.Type;
export declare const ExportMetricsServiceRequest: protobuf.Type;
export declare const ExportMetricsServiceResponse: protobuf.Type;
export declare const RpcStatus: protobuf.Type;
